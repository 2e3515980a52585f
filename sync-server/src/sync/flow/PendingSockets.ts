import { AuthFailure, DEFAULTS } from '@parley/schema';

interface Pending {
  address: string;
  bytes: number;
}

/**
 * Sockets that have not authenticated a document yet. Each costs memory
 * (Hocuspocus queues what it sends until then) and proves nothing, so there
 * are caps on how many wait at once, server-wide and per remote address, and
 * on the bytes they may have sent together. Authenticated sockets leave.
 */
export class PendingSockets<Key> {
  private readonly entries = new Map<Key, Pending>();
  private readonly byAddress = new Map<string, number>();
  private bytes = 0;

  /** Returns a refusal reason, or null when the socket may wait for its authentication. */
  admit(key: Key, address: string): string | null {
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (this.entries.size >= DEFAULTS.unauthenticatedSocketsMax || fromAddress >= DEFAULTS.unauthenticatedSocketsPerAddress) {
      return AuthFailure.tooManyUnauthenticated;
    }
    this.entries.set(key, { address, bytes: 0 });
    this.byAddress.set(address, fromAddress + 1);
    return null;
  }

  /** Counts bytes a waiting socket sent; false once all waiting sockets together sent too much. */
  charge(key: Key, bytes: number): boolean {
    const entry = this.entries.get(key);
    if (!entry) return true;
    entry.bytes += bytes;
    this.bytes += bytes;
    return this.bytes <= DEFAULTS.unauthenticatedBytesMax;
  }

  /** The socket authenticated or closed. */
  leave(key: Key): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    const left = (this.byAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.byAddress.set(entry.address, left);
    else this.byAddress.delete(entry.address);
  }
}
