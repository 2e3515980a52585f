import { DEFAULTS } from '@parley/schema';

/** Characters of a user id: what may follow an `@` in a mention. */
const ID_CHAR = /[A-Za-z0-9_.-]/;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The `@word` being typed at the caret, for completion: where its `@` is and
 * what follows it. Null when the caret is not in one (an `@` inside a word,
 * like an email address, starts no mention).
 */
export function mentionAtCaret(text: string, caret: number): { start: number; query: string } | null {
  let at = caret;
  while (at > 0 && ID_CHAR.test(text[at - 1]!)) at--;
  if (at === 0 || text[at - 1] !== '@') return null;
  const start = at - 1;
  if (start > 0 && !/\s|[([{"'“]/.test(text[start - 1]!)) return null;
  return { start, query: text.slice(at, caret) };
}

/** Members whose id starts with the query (case-insensitive), then those that contain it, each in alphabetical order; at most `max`. */
export function mentionCandidates(members: readonly string[], query: string, max = 8): string[] {
  const q = query.toLowerCase();
  const sorted = [...members].sort((a, b) => a.localeCompare(b));
  const starts = sorted.filter((m) => m.toLowerCase().startsWith(q));
  const contains = sorted.filter((m) => !m.toLowerCase().startsWith(q) && m.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, max);
}

/** The text with the mention at `start..caret` replaced by `@id `, and where the caret goes. */
export function completeMention(text: string, start: number, caret: number, id: string): { text: string; caret: number } {
  const inserted = `@${id} `;
  const rest = text.slice(caret).replace(/^[A-Za-z0-9_.-]*/, '').replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** A pattern finding `@id` of any of `ids` as a whole mention (not inside a longer id or word). */
export function mentionPattern(ids: readonly string[]): RegExp | null {
  if (ids.length === 0) return null;
  const alternatives = [...ids].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
  return new RegExp(`(?<![A-Za-z0-9_.-])@(${alternatives})(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_-])`, 'g');
}

/**
 * The members a message mentions: those whose `@id` is in its text (typed or
 * completed), the author left out, at most what the server accepts.
 */
export function mentionsIn(text: string, members: readonly string[], me: string): string[] {
  const pattern = mentionPattern(members.filter((m) => m !== me));
  if (!pattern) return [];
  const found = new Set<string>();
  for (const match of text.matchAll(pattern)) found.add(match[1]!);
  return [...found].slice(0, DEFAULTS.mentionsMaxPerMessage);
}
