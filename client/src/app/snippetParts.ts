/** A piece of a search snippet: plain text, or a matched word. */
export interface SnippetPart {
  text: string;
  marked: boolean;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * The server's snippet (escaped HTML with `<mark>` around matches, contract
 * section 4) as text pieces, so the app renders it as React text nodes and
 * `<mark>` elements, never as HTML: a server bug or a hostile proxy cannot
 * inject markup through it. Any other tag is shown as the text it is.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let marked = false;
  for (const piece of snippet.split(/(<mark>|<\/mark>)/)) {
    if (piece === '<mark>') marked = true;
    else if (piece === '</mark>') marked = false;
    else if (piece !== '') parts.push({ text: piece.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!), marked });
  }
  return parts;
}
