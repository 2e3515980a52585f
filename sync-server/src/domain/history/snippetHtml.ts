/** Where the index's snippet marks a match (see SqliteMessageIndex.search). */
const OPEN = '\u0001';
const CLOSE = '\u0002';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The index's snippet as safe HTML: every character of the message escaped,
 * each match wrapped in `<mark>`...`</mark>`, and no other markup. A message
 * may itself contain the marker characters: a mark opens only when none is
 * open and closes only when one is, and strays are dropped, so the result is
 * always balanced.
 */
export function snippetHtml(snippet: string): string {
  let html = '';
  let open = false;
  for (const char of snippet) {
    if (char === OPEN) {
      if (!open) html += '<mark>';
      open = true;
    } else if (char === CLOSE) {
      if (open) html += '</mark>';
      open = false;
    } else html += ESCAPES[char] ?? char;
  }
  return open ? `${html}</mark>` : html;
}
