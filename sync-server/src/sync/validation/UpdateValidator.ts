import * as Y from 'yjs';
import { DEFAULTS, UpdateRejection, parseDocName } from '@parley/schema';
import { refusal, type Refusal } from './Refusal';
import { PlaceResolver } from './PlaceResolver';
import type { DocumentRules } from './DocumentRules';
import type { Writer } from './Writer';
import { conversationRules } from './conversationRules';
import { inboxRules } from './inboxRules';
import { NO_UPLOADS, type UploadLookup } from './attachmentRefs';

export interface Accepted {
  /** Client ids this update introduces; bind them to the writer. */
  newClients: number[];
  /** True when the update adds nothing the document lacks. */
  empty: boolean;
  /** Ids of the new messages: unique in the live document; the caller checks the message index too (MessageIds.refuseArchivedIds). */
  claimedMessageIds: string[];
}

/** Who owns each Yjs client id in a document (see ClientBindings). */
export type OwnerOf = (clientId: number) => string | null;

type Decoded = { structs: Array<Y.Item | Y.GC | Y.Skip>; ds: { clients: Map<number, Array<{ clock: number; len: number }>> } };

const rulesFor = (documentName: string, upload: UploadLookup): DocumentRules | null => {
  const name = parseDocName(documentName);
  return name?.type === 'conversation' ? conversationRules({ conversationId: name.id, upload }) : name?.type === 'inbox' ? inboxRules : null;
};

/**
 * Judges a client's update against the stored document before anything is
 * applied. Every new item must come from a client id of the writer's, sit
 * where the writer may write and hold a valid value; every deletion must
 * remove something the writer may change. Cost: one binary search per
 * reference, so it grows with the update, not the history.
 */
export function validateUpdate(
  doc: Y.Doc,
  documentName: string,
  update: Uint8Array,
  writer: Writer,
  ownerOf: OwnerOf,
  upload: UploadLookup = NO_UPLOADS,
): Accepted | Refusal {
  if (update.byteLength > DEFAULTS.updateMaxBytes) return refusal(UpdateRejection.tooLarge, `an update is at most ${DEFAULTS.updateMaxBytes} bytes`);
  const rules = rulesFor(documentName, upload);
  if (!rules) return refusal(UpdateRejection.malformed, 'unknown document');
  let decoded: Decoded;
  try {
    decoded = Y.decodeUpdate(update) as unknown as Decoded;
  } catch {
    return refusal(UpdateRejection.malformed, 'not a Yjs update');
  }

  const newItems: Y.Item[] = [];
  const clients = new Set<number>();
  /** Per client of the update, the clock its new structs reach. */
  const reach = new Map<number, number>();
  /** The first client whose new structs start past what is stored (see aheadOfStore). */
  let gap: { client: number; known: number; clock: number } | null = null;
  const gapped = new Set<number>();
  let empty = true;
  for (const struct of decoded.structs) {
    // Checked even for items the server already holds: decoding an update makes
    // Yjs create every root type it names, so unknown names would pile up in memory.
    if (struct instanceof Y.Item && typeof struct.parent === 'string' && !rules.roots.has(struct.parent)) {
      return refusal(UpdateRejection.unknownField, `unknown root ${struct.parent}`);
    }
    const client = struct.id.client;
    const known = Y.getState(doc.store, client);
    if (struct.id.clock + struct.length <= known || gapped.has(client)) continue;
    if (struct instanceof Y.Skip) return refusal(UpdateRejection.missingDependency, 'the update has gaps');
    if (!clients.has(client)) {
      clients.add(client);
      // The first new struct of a client must continue what is stored, or Yjs would park it.
      if (struct.id.clock > known) {
        gapped.add(client);
        gap ??= { client, known, clock: struct.id.clock };
        continue;
      }
    }
    empty = false;
    reach.set(client, struct.id.clock + struct.length);
    if (struct instanceof Y.Item) newItems.push(struct);
  }

  const newClients: number[] = [];
  for (const client of clients) {
    const owner = ownerOf(client);
    if (owner === null) newClients.push(client);
    else if (owner !== writer.userId) return refusal(UpdateRejection.foreignClient, `client id ${client} belongs to another writer`);
  }
  // Every client id is the writer's or nobody's (checked above): the gap is the sender's own changes.
  if (gap) return aheadOfStore(gap);

  const resolver = new PlaceResolver(doc, newItems);
  const isNew = new Set(newItems);
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    const ref = unresolvedRef(doc, struct, isNew.has(struct), resolver);
    if (ref) return refusal(UpdateRejection.missingDependency, `${struct.id.client}:${struct.id.clock} refers to ${ref.client}:${ref.clock}, unknown here`);
  }
  for (const item of newItems) {
    const place = resolver.placeOf(item);
    if ('missing' in place) return refusal(UpdateRejection.missingDependency, `refers to ${place.missing.client}:${place.missing.clock}, unknown here`);
    if ('gc' in place) continue; // next to collected content: Yjs drops it
    const verdict = rules.insert(item, place, writer, resolver);
    if (verdict) return verdict;
  }
  const whole = rules.complete(newItems, writer, resolver);
  if (whole) return whole;

  for (const [client, ranges] of decoded.ds.clients) {
    for (const range of ranges) {
      const verdict = checkDeletedRange(doc, client, range, writer, rules, resolver, reach.get(client) ?? 0);
      if (verdict === 'changed') empty = false;
      else if (verdict) return verdict;
    }
  }
  return { newClients, empty, claimedMessageIds: resolver.claimedMessageIds };
}

/**
 * A reference Yjs could not resolve. Yjs looks up, without checking, a
 * reference from a struct's own client (assumed earlier) and every reference of
 * a struct it already holds; a bad one throws half-way through applying an
 * update that is already stored, and the document no longer loads. So: own
 * client's references point back, known structs' references are stored, new
 * structs' references are stored or come in this update.
 */
function unresolvedRef(doc: Y.Doc, item: Y.Item, isNew: boolean, resolver: PlaceResolver): Y.ID | null {
  for (const ref of [item.origin, item.rightOrigin, item.parent instanceof Y.ID ? item.parent : null]) {
    if (!ref) continue;
    if (ref.client === item.id.client) {
      if (ref.clock >= item.id.clock) return ref;
    } else if (ref.clock >= Y.getState(doc.store, ref.client) && !(isNew && 'item' in resolver.lookup(ref))) {
      return ref;
    }
  }
  return null;
}

/** Each stored, live item in the range must be one the writer may remove. */
function checkDeletedRange(
  doc: Y.Doc,
  client: number,
  range: { clock: number; len: number },
  writer: Writer,
  rules: DocumentRules,
  resolver: PlaceResolver,
  updateReach: number,
): Refusal | 'changed' | null {
  const known = Y.getState(doc.store, client);
  const end = range.clock + range.len;
  let changed = false;
  if (end > Math.max(known, updateReach)) {
    // Deleting what the server has not seen yet would wait for it in Yjs and strike it on arrival;
    // and the server would hand that pending deletion to every client that syncs, whose next
    // full sync step would then be refused here: nobody could write any more.
    return refusal(UpdateRejection.missingDependency, `deletes ${client}:${known}..${end}, unknown here`);
  }
  const structs = doc.store.clients.get(client);
  if (!structs || range.clock >= known) return null;
  for (let i = Y.findIndexSS(structs, range.clock); i < structs.length; i++) {
    const struct = structs[i]!;
    if (struct.id.clock >= end) break;
    if (!(struct instanceof Y.Item) || struct.deleted) continue;
    const place = resolver.placeOf(struct);
    if (!('root' in place)) continue;
    const verdict = rules.delete(struct, place, writer, resolver);
    if (verdict) return verdict;
    changed = true;
  }
  return changed ? 'changed' : null;
}

/**
 * The first new struct of a client starts past what the document holds of
 * it. Yjs clocks of one client id are written by one replica in order, and
 * the client id is the writer's or nobody's yet (a gap in another writer's
 * id is refused as theirs before this): the missing clocks are changes of
 * the sender's own replica the server never stored (`senderAhead`). Nothing
 * else of the update is judged then; the resync brings it whole, and it is
 * judged whole.
 */
function aheadOfStore({ client, known, clock }: { client: number; known: number; clock: number }): Refusal {
  return { ...refusal(UpdateRejection.missingDependency, `client ${client} skips clocks ${known}..${clock}`), senderAhead: true };
}
