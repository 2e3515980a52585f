import * as Y from 'yjs';
import { conversationParts } from '@parley/schema';
import type { DocReplica } from './DocReplica';
import type { MetaStore } from './MetaStore';

/** One own reaction taken back on this device that the server has not acknowledged yet. */
export interface ReactionRemoval {
  messageId: string;
  emoji: string;
  /** The value the removed key held (its ms epoch): the same reaction, not one made again since. */
  at: number;
}

const keyOf = (removal: Pick<ReactionRemoval, 'messageId' | 'emoji'>) => `${removal.messageId}\n${removal.emoji}`;

/**
 * The own reactions taken back and not yet acknowledged (issue 9, item 2). A
 * removal is a Yjs deletion: it makes no item and no clock, so the
 * acknowledged state vector that tells what else is pending (unacknowledged.ts)
 * cannot see it. It is recorded here when made (a local transaction deleting a
 * `<me>:<emoji>` key of a message's `reactions`), kept in the MetaStore beside
 * the acknowledged vector (it survives a reload offline), and forgotten once
 * the server has acknowledged everything the replica sent (the deletion is
 * stored then). A renewal in between makes it again (RenewalRecovery).
 *
 * Bounded: at most one entry per own reaction key the replica held, and the
 * replica is bounded by the live window.
 */
export class ReactionRemovals {
  private readonly removals = new Map<string, ReactionRemoval>();
  private unbind: () => void = () => {};
  private readonly offs: Array<() => void> = [];
  private write: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly replica: DocReplica,
    private readonly me: string,
    private readonly meta: MetaStore | null,
  ) {
    void meta?.readRemovals(replica.name).then((stored) => {
      for (const removal of stored) if (!this.removals.has(keyOf(removal))) this.removals.set(keyOf(removal), removal);
    });
    this.bind();
    // A rebuilt replica starts with nothing pending: a recovery took what was (or it is lost with the replica, as everything else).
    this.offs.push(
      replica.on('reset', () => {
        this.forgetAll();
        this.bind();
      }),
    );
    this.offs.push(replica.on('acknowledged', () => this.forgetAll()));
  }

  /** The removals still pending, as recorded. */
  list(): ReactionRemoval[] {
    return [...this.removals.values()];
  }

  /** Taken over by a recovery (which makes them again on the rebuilt replica, where they are recorded anew). */
  forgetAll(): void {
    if (this.removals.size === 0) return;
    this.removals.clear();
    this.persist();
  }

  dispose(): void {
    this.unbind();
    for (const off of this.offs) off();
    if (this.write) clearTimeout(this.write);
  }

  /** Watches the replica's current document (a reset replaces it). */
  private bind(): void {
    this.unbind();
    const messages = conversationParts(this.replica.doc).messages;
    const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>, transaction: Y.Transaction) => {
      // Only changes made on this device: the server's and other tabs' arrive through applyUpdate (not local).
      if (!transaction.local) return;
      for (const event of events) this.record(event);
    };
    messages.observeDeep(observer);
    this.unbind = () => messages.unobserveDeep(observer);
  }

  private record(event: Y.YEvent<Y.AbstractType<unknown>>): void {
    const reactions = event.target;
    const message = reactions.parent;
    if (!(reactions instanceof Y.Map) || !(message instanceof Y.Map) || message.get('reactions') !== reactions) return;
    const messageId = message.get('id');
    if (typeof messageId !== 'string') return;
    const prefix = `${this.me}:`;
    let changed = false;
    for (const [key, change] of event.changes.keys) {
      if (!key.startsWith(prefix)) continue;
      const removal = { messageId, emoji: key.slice(prefix.length) };
      if (change.action === 'delete' && typeof change.oldValue === 'number') this.removals.set(keyOf(removal), { ...removal, at: change.oldValue });
      // Made again before the server saw the removal: the reaction stands (the addition is pending on its own).
      else if (change.action !== 'delete') this.removals.delete(keyOf(removal));
      changed = true;
    }
    if (changed) this.persist();
  }

  private persist(): void {
    if (this.write || !this.meta) return;
    this.write = setTimeout(() => {
      this.write = null;
      void this.meta?.writeRemovals(this.replica.name, this.list());
    }, 50);
  }
}
