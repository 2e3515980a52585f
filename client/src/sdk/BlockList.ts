import type { BlockEntry } from '@parley/schema';
import type { ApiClient } from './ApiClient';
import { Emitter } from './Emitter';

/**
 * The signed-in user's blocks (issue 14), kept from the server's list: the
 * web app collapses blocked users' messages and offers block and unblock.
 * The server is the authority (it stops notifications and direct chats);
 * this copy only decides what the app shows, so it loads once per session
 * and follows the user's own changes.
 */
export class BlockList extends Emitter<{ change: readonly BlockEntry[] }> {
  private entries: readonly BlockEntry[] = [];
  private ids: ReadonlySet<string> = new Set();
  private loaded: Promise<void> | null = null;

  constructor(private readonly api: ApiClient) {
    super();
  }

  list(): readonly BlockEntry[] {
    return this.entries;
  }

  has(userId: string): boolean {
    return this.ids.has(userId);
  }

  /** Loads the list (once; `force` reloads). A failure leaves the list as it was and lets a later call try again. */
  load(force = false): Promise<void> {
    if (!this.loaded || force) {
      this.loaded = this.api.blocks().then(
        ({ blocks }) => this.set(blocks),
        (error: unknown) => {
          this.loaded = null;
          throw error;
        },
      );
    }
    return this.loaded;
  }

  async block(userId: string): Promise<void> {
    const { block } = await this.api.block(userId);
    this.set([block, ...this.entries.filter((b) => b.userId !== userId)]);
  }

  async unblock(userId: string): Promise<void> {
    await this.api.unblock(userId);
    this.set(this.entries.filter((b) => b.userId !== userId));
  }

  private set(entries: readonly BlockEntry[]): void {
    this.entries = entries;
    this.ids = new Set(entries.map((b) => b.userId));
    this.emit('change', entries);
  }
}
