import * as Y from 'yjs';
import { OwnerNotificationFields, PrefsKeys, inboxParts, isDocumentRenewal } from '@parley/schema';
import { covers, type StateVector } from './AckVector';
import type { DocReplica } from './DocReplica';
import type { Change } from './salvage';
import type { SdkError } from './types';

/** One value the owner wrote into the inbox that the server never acknowledged: where, and what. */
interface PendingWrite {
  /** `notification` field of one notification, or a key of `prefs` (`channels`, `muted`: a nested key; `quietHours`: the value). */
  place: { notification: string; field: string } | { prefs: string; key: string | null };
  value: unknown;
}

const keyItem = (map: Y.Map<unknown>, key: string): Y.Item | null => (map as unknown as { _map: Map<string, Y.Item> })._map.get(key) ?? null;
const unacked = (ack: StateVector, item: Y.Item | null): item is Y.Item => item !== null && !item.deleted && !covers(ack, item.id);

/**
 * The owner's own writes an inbox replica holds that the server never
 * acknowledged: `readAt`, `seenAt`, `archivedAt` of notifications, and
 * preferences (channels, mutes, quiet hours), judged per Yjs item against the
 * acknowledged state vector. A key removed offline (an unmute) has no item
 * and is not carried over (documented in docs/CONTRACT-NOTES.md).
 */
export function unacknowledgedInboxWrites(doc: Y.Doc, ack: StateVector): PendingWrite[] {
  const writes: PendingWrite[] = [];
  const { notifications, prefs } = inboxParts(doc);
  for (const [id, map] of notifications.entries()) {
    if (!(map instanceof Y.Map)) continue;
    for (const field of OwnerNotificationFields) if (unacked(ack, keyItem(map, field))) writes.push({ place: { notification: id, field }, value: map.get(field) });
  }
  for (const key of [PrefsKeys.channels, PrefsKeys.muted]) {
    const nested = prefs.get(key);
    if (!(nested instanceof Y.Map)) continue;
    for (const inner of nested.keys()) if (unacked(ack, keyItem(nested, inner))) writes.push({ place: { prefs: key, key: inner }, value: nested.get(inner) });
  }
  if (unacked(ack, keyItem(prefs as Y.Map<unknown>, PrefsKeys.quietHours))) writes.push({ place: { prefs: PrefsKeys.quietHours, key: null }, value: prefs.get(PrefsKeys.quietHours) });
  return writes;
}

/** Makes one write again on the renewed inbox, where its place still exists (a notification the server dropped meanwhile is gone). */
function replay(write: PendingWrite): Change {
  return (doc) => {
    const { notifications, prefs } = inboxParts(doc);
    const { place, value } = write;
    if ('notification' in place) {
      const map = notifications.get(place.notification);
      if (map instanceof Y.Map && map.get(place.field) !== value) map.set(place.field, value);
      return;
    }
    if (place.key === null) {
      prefs.set(place.prefs, value as never);
      return;
    }
    const nested = prefs.get(place.prefs);
    if (nested instanceof Y.Map) nested.set(place.key, value);
  };
}

/**
 * The recovery from a renewal of `inbox:<userId>` (issue 9, the bounded
 * inbox): as for a conversation (RenewalRecovery), the replica's items belong
 * to retired client ids, so the owner's unacknowledged writes are read from
 * it, the replica is dropped and rebuilt from the server, and each write is
 * made again once it has synced. Every one sets a state: making one twice
 * changes nothing.
 */
export function recoverInboxFromRenewals(replica: DocReplica, report: (error: SdkError) => void): () => void {
  return replica.on('closed', (event) => {
    if (!isDocumentRenewal(event)) return;
    replica.hold();
    const writes = unacknowledgedInboxWrites(replica.doc, replica.ack);
    report({ docName: replica.name, reason: event.reason, code: event.code, recovery: 'replica-reset', at: Date.now() });
    void replica.reset(true, () => writes.map(replay));
  });
}
