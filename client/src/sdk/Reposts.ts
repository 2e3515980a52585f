import type { OutsideWindowChange } from './OutsideWindowOutbox';

/**
 * Own messages being posted again after a renewal (RenewalRecovery), and the
 * changes the user made to them meanwhile. Between the renewal and the
 * moment the server says whether it holds the message (a lookup that may
 * wait out a network loss), the message is in neither the rebuilt replica
 * nor the server's history: an edit, deletion or reaction made then would
 * go to the REST API, meet a 404 and be lost (the renewal fuzz lost edits
 * that way). They wait here instead, and are made right after the message
 * is posted, or over REST when the server turned out to hold it.
 *
 * Bounded: one entry per pending own message (the live window bounds those),
 * and per entry the newest edit or deletion and one state per emoji.
 */
export class Reposts {
  private readonly pending = new Map<string, { changes: OutsideWindowChange[]; posts: number }>();

  /** A repost of `messageId` starts (one renewal after another may post the same message twice; the second finds it). */
  begin(messageId: string): void {
    const entry = this.pending.get(messageId) ?? { changes: [], posts: 0 };
    entry.posts++;
    this.pending.set(messageId, entry);
  }

  /** Keeps the change for later when `messageId` is being posted again; false when it is not. */
  follow(messageId: string, change: OutsideWindowChange): boolean {
    const entry = this.pending.get(messageId);
    if (!entry) return false;
    entry.changes = entry.changes.filter((held) => !supersedes(change, held));
    entry.changes.push(change);
    return true;
  }

  /** The repost ended (posted, found on the server, or given up): the changes kept for it, oldest first. */
  end(messageId: string): OutsideWindowChange[] {
    const entry = this.pending.get(messageId);
    if (!entry) return [];
    const changes = entry.changes;
    entry.changes = [];
    if (--entry.posts === 0) this.pending.delete(messageId);
    return changes;
  }
}

/** Whether `change` makes `held` pointless: a newer text or a deletion replaces an edit, a reaction's newer state its older one. */
function supersedes(change: OutsideWindowChange, held: OutsideWindowChange): boolean {
  if (held.op === 'edit') return change.op === 'edit' || change.op === 'delete';
  if (held.op === 'reaction') return change.op === 'reaction' && change.emoji === held.emoji;
  return false;
}
