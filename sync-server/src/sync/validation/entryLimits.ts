import * as Y from 'yjs';
import { UpdateRejection } from '@parley/schema';
import type { Place, PlaceResolver } from './PlaceResolver';
import { refusal, type Refusal } from './Refusal';
import { isDeletedContent } from './values';

/**
 * Bounds on maps a client grows key by key (reactions of a message, muted
 * conversations, channel preferences). Checked over the whole update: the
 * keys a map will hold once it lands are its stored live keys plus the new
 * keys the update sets, so no number of small updates, nor one big one, gets
 * past the limit.
 */

/** New keys the update sets, per map (its container item), for the places `wanted` picks. */
export function newKeysPerMap(newItems: readonly Y.Item[], resolver: PlaceResolver, wanted: (place: Place) => boolean): Map<Y.Item, Set<string>> {
  const perMap = new Map<Y.Item, Set<string>>();
  for (const item of newItems) {
    if (isDeletedContent(item)) continue;
    const place = resolver.placeOf(item);
    if (!('root' in place) || !place.container || place.sub === null || !wanted(place)) continue;
    let keys = perMap.get(place.container);
    if (!keys) perMap.set(place.container, (keys = new Set()));
    keys.add(place.sub);
  }
  return perMap;
}

/** Keys the map will hold: stored live ones and the new ones. */
export function keysAfter(container: Y.Item, added: ReadonlySet<string>): Set<string> {
  const keys = new Set(added);
  const content = container.content;
  if (content instanceof Y.ContentType && content.type instanceof Y.Map) {
    for (const [key, item] of content.type._map) if (!item.deleted) keys.add(key);
  }
  return keys;
}

/** A refusal when a map would hold more than `max` keys (of those `counted` picks). */
export function overLimit(keys: ReadonlySet<string>, max: number, what: string, counted: (key: string) => boolean = () => true): Refusal | null {
  let n = 0;
  for (const key of keys) if (counted(key) && ++n > max) return refusal(UpdateRejection.tooManyEntries, `at most ${max} ${what}`);
  return null;
}
