import { DEFAULTS, InboxKeys, OwnerNotificationFields, PrefsKeys, QUIET_HOURS_KEY, QuietHours, UpdateRejection, isId } from '@parley/schema';
import type * as Y from 'yjs';
import { keysAfter, newKeysPerMap, overLimit } from './entryLimits';
import { refusal, type Refusal } from './Refusal';
import type { Place, PlaceResolver } from './PlaceResolver';
import type { DocumentRules } from './DocumentRules';
import { entryValue, isChannels, isDeletedContent, isFutureTimestamp, isKindKey, isPlainValue, isTimestamp } from './values';

const serverOnly = (what: string) => refusal(UpdateRejection.serverOnly, `${what} is written by the server only`);

/** The owner may set readAt, seenAt and archivedAt on a notification the server made. */
function checkNotificationField(place: Place, item: Y.Item | null, resolver: PlaceResolver): Refusal | null {
  if (!place.container) return serverOnly('a notification');
  const outer = resolver.placeOf(place.container);
  if (!('root' in outer) || outer.container || !resolver.isStored(place.container)) return serverOnly('a notification');
  if (!(OwnerNotificationFields as readonly string[]).includes(place.sub ?? '')) return serverOnly(`notification field ${place.sub}`);
  if (item && !isDeletedContent(item)) {
    const value = entryValue(item);
    if (!isPlainValue(item) || (value !== null && !isTimestamp(value))) return refusal(UpdateRejection.invalidMessage, `${place.sub} is a ms epoch (2020 to now) or null`);
  }
  return null;
}

/** The owner writes entries of prefs.channels and prefs.muted; the maps themselves are the server's. */
function checkPrefs(place: Place, item: Y.Item | null, resolver: PlaceResolver): Refusal | null {
  if (!place.container && place.sub === QUIET_HOURS_KEY) return checkQuietHours(item);
  if (!place.container) return serverOnly('prefs.channels and prefs.muted');
  const outer = resolver.placeOf(place.container);
  if (!('root' in outer) || outer.container) return refusal(UpdateRejection.invalidMessage, 'nothing nests there');
  const sub = place.sub ?? '';
  const value = item && !isDeletedContent(item) ? entryValue(item) : undefined;
  if (outer.sub === PrefsKeys.channels) {
    if (!isKindKey(sub)) return refusal(UpdateRejection.invalidMessage, 'bad notification kind');
    if (item && !isDeletedContent(item) && !(isPlainValue(item) && isChannels(value))) return refusal(UpdateRejection.invalidMessage, 'channels are {inApp, push, email, sms?}');
    return null;
  }
  if (outer.sub === PrefsKeys.muted) {
    if (!isId(sub)) return refusal(UpdateRejection.invalidMessage, 'muted is keyed by conversation id');
    if (item && !isDeletedContent(item) && !(isPlainValue(item) && isFutureTimestamp(value))) return refusal(UpdateRejection.invalidMessage, 'muted until a ms epoch');
    return null;
  }
  return refusal(UpdateRejection.unknownField, `unknown prefs key ${outer.sub}`);
}

/** The owner sets `prefs.quietHours` to `{start, end, tz}` (or null, or deletes it). */
function checkQuietHours(item: Y.Item | null): Refusal | null {
  if (!item || isDeletedContent(item)) return null;
  const value = entryValue(item);
  if (isPlainValue(item) && (value === null || QuietHours.safeParse(value).success)) return null;
  return refusal(UpdateRejection.invalidMessage, 'quietHours is {start: "HH:MM", end: "HH:MM", tz: <IANA zone>} or null');
}

/** prefs.muted and prefs.channels hold a bounded number of keys. */
function checkPrefsCount(newItems: Y.Item[], resolver: PlaceResolver): Refusal | null {
  const prefsMap = (place: Place): string | null => {
    if (place.root !== InboxKeys.prefs || !place.container) return null;
    const outer = resolver.placeOf(place.container);
    return 'root' in outer && !outer.container ? outer.sub : null;
  };
  const limits = new Map<string, [number, string]>([
    [PrefsKeys.muted, [DEFAULTS.mutedMaxEntries, 'muted conversations']],
    [PrefsKeys.channels, [DEFAULTS.channelsMaxEntries, 'channel preferences']],
  ]);
  for (const [map, added] of newKeysPerMap(newItems, resolver, (place) => prefsMap(place) !== null)) {
    const outer = resolver.placeOf(map);
    const limit = 'root' in outer && outer.sub !== null ? limits.get(outer.sub) : undefined;
    const verdict = limit && overLimit(keysAfter(map, added), limit[0], limit[1]);
    if (verdict) return verdict;
  }
  return null;
}

function check(place: Place, item: Y.Item | null, resolver: PlaceResolver): Refusal | null {
  switch (place.root) {
    case InboxKeys.notifications:
      return checkNotificationField(place, item, resolver);
    case InboxKeys.prefs:
      return checkPrefs(place, item, resolver);
    case InboxKeys.conversations:
      return serverOnly('conversations');
    default:
      return refusal(UpdateRejection.unknownField, `unknown root ${place.root}`);
  }
}

/** The rules of CONTRACT section 3 for `inbox:<userId>` (only its owner connects). */
export const inboxRules: DocumentRules = {
  roots: new Set(Object.values(InboxKeys)),
  insert: (item, place, _writer, resolver) => check(place, item, resolver),
  delete: (_item, place, _writer, resolver) => check(place, null, resolver),
  complete: (newItems, _writer, resolver) => checkPrefsCount(newItems, resolver),
};
