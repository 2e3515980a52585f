import * as Y from 'yjs';
import { channelsFor, inboxParts, isMuted, readPrefs } from '@parley/schema';
import type { NewJob } from '../storage/Storage';

export const DeliveryQueues = {
  push: 'deliver.push',
  email: 'deliver.email',
  digest: 'email.digest',
  digestSweep: 'email.digest-sweep',
  sms: 'deliver.sms',
} as const;

/** What a step's job carries: ids, never copies (it reads the inbox again when it runs). */
export interface StepData {
  userId: string;
  notificationId: string;
  version: number;
}

export interface Escalation {
  /** Channels this server can send on, with how long each waits (CONTRACT 7). */
  push: number | null;
  email: number | null;
  sms: number | null;
}

/** Notifications a server transaction on an inbox created, or moved to a new version (`updatedAt`). */
function newVersions(doc: Y.Doc, transaction: Y.Transaction): Array<{ id: string; map: Y.Map<unknown> }> {
  const notifications = inboxParts(doc).notifications;
  const ids = new Set<string>();
  for (const [type, keys] of transaction.changed) {
    if ((type as unknown) === notifications) {
      for (const key of keys) if (key !== null) ids.add(key);
    } else if (type instanceof Y.Map && type._item?.parent === notifications && keys.has('updatedAt') && type._item.parentSub) {
      ids.add(type._item.parentSub);
    }
  }
  const found: Array<{ id: string; map: Y.Map<unknown> }> = [];
  for (const id of ids) {
    const map = notifications.get(id);
    if (map instanceof Y.Map) found.push({ id, map });
  }
  return found;
}

/**
 * The escalation steps of every notification version a transaction on
 * `inbox:<userId>` made: a delayed job per channel, enqueued with the update
 * in the same transaction (DocumentStore.append), so a version stored is a
 * version whose steps will run, whatever happens to the process. Each job
 * checks everything again when it runs (stepVerdict); the checks here only
 * spare jobs that cannot send (a channel off, a muted conversation).
 */
export function escalationJobs(userId: string, doc: Y.Doc, transaction: Y.Transaction, escalation: Escalation, now: number): NewJob[] {
  const versions = newVersions(doc, transaction);
  if (versions.length === 0) return [];
  const prefs = readPrefs(doc);
  const jobs: NewJob[] = [];
  for (const { id, map } of versions) {
    const version = map.get('updatedAt');
    if (typeof version !== 'number' || map.get('readAt') != null || map.get('archivedAt') != null) continue;
    const kind = String(map.get('kind') ?? '');
    const data = map.get('data') as { conversationId?: unknown } | undefined;
    const conversationId = typeof data?.conversationId === 'string' ? data.conversationId : null;
    if (conversationId && kind !== 'mention' && isMuted(prefs, conversationId, now)) continue;
    const channels = channelsFor(prefs, kind);
    const step = (queue: string, channel: 'push' | 'email' | 'sms', afterMs: number | null) => {
      if (afterMs === null || !channels[channel]) return;
      const job: StepData = { userId, notificationId: id, version };
      jobs.push({ queue, data: job, runAt: version + afterMs, key: `${channel}:${userId}:${id}:${version}` });
    };
    step(DeliveryQueues.push, 'push', escalation.push);
    step(DeliveryQueues.email, 'email', escalation.email);
    step(DeliveryQueues.sms, 'sms', escalation.sms);
  }
  return jobs;
}
