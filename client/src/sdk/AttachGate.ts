/**
 * Lets at most `limit` documents wait for authentication on one socket at a
 * time. Hocuspocus resets a socket that holds more than 100 unauthenticated
 * documents, and the provider re-sends every document's token whenever the
 * socket opens, so without this a session with many conversations would
 * reconnect forever. A slot frees when the server answers (authenticated or
 * refused) or when the socket closes, which starts a new epoch.
 */
export class AttachGate {
  private epoch = 0;
  private inFlight = new Set<object>();
  private waiting: { who: object; epoch: number; admit: (ok: boolean) => void }[] = [];

  constructor(readonly limit: number) {}

  /** Resolves true when `who` may authenticate now; false if the socket closed meanwhile. */
  admit(who: object): Promise<boolean> {
    if (this.inFlight.size < this.limit) {
      this.inFlight.add(who);
      return Promise.resolve(true);
    }
    return new Promise((admit) => this.waiting.push({ who, epoch: this.epoch, admit }));
  }

  /** The server answered `who`'s authentication. */
  release(who: object): void {
    if (!this.inFlight.delete(who)) return;
    while (this.inFlight.size < this.limit && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (next.epoch !== this.epoch) {
        next.admit(false);
        continue;
      }
      this.inFlight.add(next.who);
      next.admit(true);
    }
  }

  /** The socket closed: nobody is waiting for an answer on it any more. */
  reset(): void {
    this.epoch++;
    this.inFlight.clear();
    for (const waiter of this.waiting.splice(0)) waiter.admit(false);
  }

  get pending(): number {
    return this.inFlight.size + this.waiting.length;
  }
}
