import type { ReactNode } from 'react';
import { mentionPattern } from './mentions';

/**
 * Marks the `@id` of every member a message mentions, in its formatted text
 * (only plain-text pieces: code and links stay as they are); a mention of the
 * reader gets its own class. Ids come from the message's `mentions`, so a typed
 * `@someone` that was not a mention stays plain.
 */
export function highlightMentions(nodes: ReactNode[], mentions: readonly string[] | undefined, me: string): ReactNode[] {
  const pattern = mentionPattern(mentions ?? []);
  if (!pattern) return nodes;
  const out: ReactNode[] = [];
  let key = 0;
  for (const node of nodes) {
    if (typeof node !== 'string') {
      out.push(node);
      continue;
    }
    let last = 0;
    for (const match of node.matchAll(pattern)) {
      if (match.index > last) out.push(node.slice(last, match.index));
      out.push(
        <mark key={`mention-${key++}`} className={match[1] === me ? 'mention me' : 'mention'} data-testid="mention">
          {match[0]}
        </mark>,
      );
      last = match.index + match[0].length;
    }
    if (last < node.length) out.push(node.slice(last));
  }
  return out;
}
