/**
 * What PostgreSQL's text search sees, made to behave like SQLite's FTS5
 * `unicode61 remove_diacritics 2` tokenizer, so both stores match the same
 * words: a word is a run of letters and digits (PostgreSQL's parser alone
 * would keep e-mail addresses, URLs and hyphenated words whole), compared
 * without diacritics ("café" is found by "cafe") and without case.
 */
const WORD = /[\p{L}\p{N}]+/gu;

export const foldDiacritics = (text: string): string => text.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC');

/** The document side: the words of a message's text, folded, one space apart (to_tsvector('simple', ...)). */
export function searchText(text: string): string {
  return (foldDiacritics(text).toLowerCase().match(WORD) ?? []).join(' ');
}

/**
 * The query side: the domain's match expression (searchMatch: every word
 * quoted and made a prefix, `"word"*`, all required) as a tsquery text, each
 * lexeme quoted. Null when it holds no word; anything else in it is refused,
 * so a change of the domain's syntax fails loudly instead of searching for
 * something else.
 */
export function prefixQuery(match: string): string | null {
  const terms: string[] = [];
  const rest = match.replace(/"((?:[^"]|"")*)"\*/g, (_, term: string) => {
    const words = searchText(term.replace(/""/g, '"')).split(' ').filter(Boolean);
    terms.push(...words);
    return ' ';
  });
  if (rest.trim() !== '') throw new Error(`not a prefix-term match expression: ${match}`);
  if (terms.length === 0) return null;
  return terms.map((t) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "''")}':*`).join(' & ');
}
