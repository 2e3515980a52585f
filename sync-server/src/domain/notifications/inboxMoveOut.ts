import * as Y from 'yjs';
import { inboxParts, notificationLastChange as lastChange, notificationToJSON, type Notification } from '@parley/schema';

export interface MoveOutRules {
  /** Settled notifications last changed before this are deleted outright (retention: cleanupMaxAgeMs). */
  dropBefore: number;
  /** Settled notifications last changed before this leave the document for the archive. */
  moveBefore: number;
  /** The newest this many settled notifications stay in the document whatever their age... */
  keepMax: number;
  /** ...as long as they are younger than this (inboxSettledKeepMs). */
  keepMs: number;
}

export interface MoveOutPlan {
  /** Expired: deleted from the document, not archived. */
  drop: string[];
  /** To the archive first, then out of the document. */
  move: Notification[];
  /** When the next settled notification left in the document is due to move (null: none is settled). */
  dueAt: number | null;
}

const isSettled = (n: Notification) => n.readAt !== null || n.archivedAt !== null;

/**
 * Which settled notifications leave an inbox document (issue 9): those older
 * than `keepMs`, and all but the newest `keepMax`. Unread ones always stay:
 * the unread count and the live bell read the document alone.
 */
export function planMoveOut(inbox: Y.Doc, rules: MoveOutRules): MoveOutPlan {
  const settled: Notification[] = [];
  inboxParts(inbox).notifications.forEach((map) => {
    if (!(map instanceof Y.Map)) return;
    const n = notificationToJSON(map);
    if (isSettled(n)) settled.push(n);
  });
  settled.sort((a, b) => lastChange(b) - lastChange(a));
  const plan: MoveOutPlan = { drop: [], move: [], dueAt: null };
  settled.forEach((n, rank) => {
    const changed = lastChange(n);
    if (changed < rules.dropBefore) plan.drop.push(n.id);
    else if (changed < rules.moveBefore || rank >= rules.keepMax) plan.move.push(n);
    else plan.dueAt = Math.min(plan.dueAt ?? Infinity, changed + rules.keepMs + 1);
  });
  return plan;
}

/**
 * Deletes what the plan names from the document, each only if it is still as
 * planned (its owner may have marked it unread meanwhile). Returns the moved
 * notifications that stayed, whose archive copies must go again.
 */
export function applyMoveOut(inbox: Y.Doc, plan: MoveOutPlan): { removed: number; stayed: string[] } {
  const notifications = inboxParts(inbox).notifications;
  let removed = 0;
  const stayed: string[] = [];
  inbox.transact(() => {
    for (const id of plan.drop) {
      const map = notifications.get(id);
      if (map instanceof Y.Map && isSettled(notificationToJSON(map))) {
        notifications.delete(id);
        removed++;
      }
    }
    for (const planned of plan.move) {
      const map = notifications.get(planned.id);
      if (map instanceof Y.Map && JSON.stringify(notificationToJSON(map)) === JSON.stringify(planned)) {
        notifications.delete(planned.id);
        removed++;
      } else stayed.push(planned.id);
    }
  });
  return { removed, stayed };
}
