/**
 * What a handler may throw to say more than "failed": any other error is
 * retried with backoff until the queue's attempts are spent.
 */

/** Try again no sooner than this (a peer's `Retry-After`); still counts as an attempt. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly afterMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** Will never succeed (a malformed job): dead at once, with its reason. */
export class PermanentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentFailure';
  }
}
