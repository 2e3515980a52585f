import type * as Y from 'yjs';
import { Mentions, UpdateRejection, conversationParts } from '@parley/schema';
import { refusal, type Refusal } from './Refusal';

/**
 * A message's `mentions` (CONTRACT section 3): distinct ids, at most
 * `DEFAULTS.mentionsMaxPerMessage`, each a member of the conversation now.
 * Every mention becomes a notification that passes mutes, so naming someone
 * outside the room (a stranger, or someone who left) is refused, not ignored:
 * the author learns at once that the person will not hear of it.
 */
export function mentionsRefusal(value: unknown, doc: Y.Doc): Refusal | null {
  const parsed = Mentions.safeParse(value);
  if (!parsed.success) return refusal(UpdateRejection.invalidMention, `mentions: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
  const members = conversationParts(doc).members;
  const stranger = parsed.data.find((userId) => !members.has(userId));
  return stranger === undefined ? null : refusal(UpdateRejection.invalidMention, `mentions: ${stranger} is not a member of this conversation`);
}
