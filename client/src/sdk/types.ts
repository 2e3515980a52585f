import type { Message } from '@parley/schema';

/** The session's link to the server, as the app shows it. */
export type ConnectionState = 'offline' | 'connecting' | 'syncing' | 'synced';

export interface ConnectionStatus {
  state: ConnectionState;
  /**
   * Own messages safe on this device (committed to IndexedDB) that the server
   * has not acknowledged yet: what "N messages waiting" counts.
   */
  pendingMessages: number;
  /** Own messages still being written to IndexedDB (a reload now could lose them). */
  savingMessages: number;
  /** Documents holding local changes the server has not acknowledged. */
  docsWithLocalChanges: number;
}

/**
 * An own message's delivery state, in order:
 * `saving`: in memory only, its IndexedDB write not yet committed.
 * `pending`: committed to this device's IndexedDB (survives a reload), the
 * server has not acknowledged it. `sent`: the server acknowledged it (stored).
 * `read`: another member's read receipt passed it.
 * Without a local replica (`persist: false`) a message skips `saving`.
 */
export type MessageStatus = 'saving' | 'pending' | 'sent' | 'read';

export interface MessageView extends Message {
  status: MessageStatus;
  /** Ids of other members whose read receipt is at or after this message. */
  readBy: string[];
}

export interface Identity {
  userId: string;
  name: string;
}

export interface SessionToken {
  token: string;
  userId: string;
  name: string;
  /** ms epoch. */
  expiresAt: number;
}

/** Where tokens come from: the app's login, or a backend that mints them. */
export type TokenFetcher = () => Promise<SessionToken>;

export interface SdkError {
  docName: string;
  reason: string;
  /** The close code the server meant (4403 rules, 4413 size; see `closeCodeOf` in the schema), when a close reported it. */
  code?: number;
  /** What the SDK did about it. */
  recovery: 'replica-reset' | 'forgotten' | 'none';
  at: number;
}
