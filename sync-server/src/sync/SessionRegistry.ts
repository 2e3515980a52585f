import type { SocketSession } from './SocketSession';

/**
 * Open sockets by user: for the per-user connection limit, and for presence
 * (a user is online while any socket of theirs is open).
 */
export class SessionRegistry {
  private readonly byUser = new Map<string, Set<SocketSession>>();
  private readonly listeners: Array<(userId: string, online: boolean) => void> = [];

  count(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  isOnline(userId: string): boolean {
    return this.count(userId) > 0;
  }

  /** The users with an open socket here. */
  online(): IterableIterator<string> {
    return this.byUser.keys();
  }

  add(userId: string, session: SocketSession): void {
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    if (set.has(session)) return;
    set.add(session);
    if (set.size === 1) this.emit(userId, true);
  }

  remove(userId: string, session: SocketSession): void {
    const set = this.byUser.get(userId);
    if (!set?.delete(session)) return;
    if (set.size === 0) {
      this.byUser.delete(userId);
      this.emit(userId, false);
    }
  }

  onChange(listener: (userId: string, online: boolean) => void): void {
    this.listeners.push(listener);
  }

  private emit(userId: string, online: boolean): void {
    for (const listener of this.listeners) listener(userId, online);
  }
}
