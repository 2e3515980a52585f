import { Fragment, type ReactNode } from 'react';

/**
 * A message's text as React elements: `code`, **bold**, *italic* or _italic_,
 * and http(s) links. Everything else stays text, which React escapes: no HTML
 * from a message ever reaches the page. Code spans are not formatted inside;
 * bold and italic nest once (their insides get links and the other emphasis).
 */
const TOKEN = /(`[^`\n]+`)|(\*\*[^*\n]+?\*\*)|(\*[^*\s](?:[^*\n]*?[^*\s])?\*)|((?<![\p{L}\p{N}])_[^_\n]+?_(?![\p{L}\p{N}]))|(https?:\/\/[^\s<>"'`]+)/gu;
/** Punctuation that ends a sentence, not a link. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function formatMessage(text: string, depth = 0): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let key = 0;
  for (const match of text.matchAll(TOKEN)) {
    const [whole, code, bold, star, underscore, url] = match;
    const at = match.index;
    if (at > last) out.push(text.slice(last, at));
    let end = at + whole.length;
    if (code) out.push(<code key={key++}>{code.slice(1, -1)}</code>);
    else if (bold) out.push(<strong key={key++}>{inner(bold.slice(2, -2), depth)}</strong>);
    else if (star ?? underscore) out.push(<em key={key++}>{inner((star ?? underscore)!.slice(1, -1), depth)}</em>);
    else if (url) {
      const href = url.replace(TRAILING, '');
      end = at + href.length;
      out.push(safeLink(href, key++));
    }
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const inner = (text: string, depth: number): ReactNode => (depth > 0 ? text : <Fragment>{formatMessage(text, depth + 1)}</Fragment>);

function safeLink(href: string, key: number): ReactNode {
  let parsed: URL;
  try {
    parsed = new URL(href);
  } catch {
    return href;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return href;
  return (
    <a key={key} href={parsed.href} target="_blank" rel="noopener noreferrer nofollow">
      {href}
    </a>
  );
}
