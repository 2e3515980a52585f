/**
 * The transaction origin of a change another server made and stored (issue
 * 15): applied here only so this server's document and its connections see
 * it. It is never stored again, never marks the chat notifier and never
 * counts toward a renewal here: the server that made it did all of that.
 * (`local` with `skipStoreHooks` so Hocuspocus' own store hooks skip it too.)
 */
export const REMOTE_ORIGIN = Object.freeze({ source: 'local' as const, skipStoreHooks: true, context: Object.freeze({ remote: true }) });

export const isRemote = (origin: unknown): boolean => origin === REMOTE_ORIGIN;
