import type { Message } from '@parley/schema';
import type { IndexedMessage } from '../../storage/Storage';

/**
 * A message as the HTTP API carries it (CONTRACT section 4): the index's own
 * fields (conversation, seq) and the mentions stay on the server.
 */
export function publicMessage(m: IndexedMessage): Message {
  return {
    id: m.id,
    author: m.author,
    kind: m.kind,
    text: m.text,
    createdAt: m.createdAt,
    ...(m.replyTo !== undefined && { replyTo: m.replyTo }),
    ...(m.attachments !== undefined && { attachments: m.attachments }),
    ...(m.editedAt !== undefined && { editedAt: m.editedAt }),
    ...(m.deletedAt !== undefined && { deletedAt: m.deletedAt }),
    reactions: m.reactions,
  };
}
