import { ApiError } from '../sdk/ApiClient';

/** What a person reads when a request fails: the server's sentence, never a stack or a raw status line. */
export function friendlyError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}.`;
    if (error.status === 404) return `Not found: ${error.message}.`;
    if (error.status === 429) return 'Too many requests just now; try again in a few seconds.';
    if (error.status >= 500) return 'The server could not do that right now; try again later.';
    return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`;
  }
  if (error instanceof TypeError) return 'No connection to the server; try again when online.';
  return error instanceof Error ? error.message : String(error);
}
