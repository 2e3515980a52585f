/**
 * Turns what a person typed into an FTS5 match expression. Nothing of the
 * input reaches FTS as syntax: words are cut out as runs of letters and
 * digits, each quoted and made a prefix (`"word"*`), all required. So
 * `AND`, quotes, `*`, `:`, `NEAR(` and brackets are plain words or nothing,
 * never an error or a different query.
 */
export function searchMatch(query: string, maxTerms: number): string | null {
  const words = query.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms = [...new Set(words.map((w) => w.toLowerCase()))].slice(0, maxTerms);
  if (terms.length === 0) return null;
  return terms.map((term) => `"${term}"*`).join(' ');
}
