import type { Extension, afterLoadDocumentPayload } from '@hocuspocus/server';
import type * as Y from 'yjs';
import { conversationParts, ensurePrefsMaps, parseDocName, type Member } from '@parley/schema';
import type { Storage } from '../storage/Storage';

export const SERVER_ORIGIN = { source: 'local', context: { server: true } } as const;

/**
 * Brings a document's server-owned parts in line with SQLite when it loads:
 * a conversation's `meta` and `members` mirror the tables (so a crash between
 * the table write and the mirror write heals itself), and an inbox gets its
 * `prefs` maps before any client writes into them.
 */
export class DocumentInitializer implements Extension {
  priority = 90;

  constructor(private readonly storage: Storage) {}

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const name = parseDocName(documentName);
    if (name?.type === 'inbox') {
      document.transact(() => ensurePrefsMaps(document), SERVER_ORIGIN);
    } else if (name?.type === 'conversation') {
      const mirror = await conversationMirror(this.storage, name.id);
      document.transact(() => mirror(document), SERVER_ORIGIN);
    }
  }
}

/** Reads a conversation's rows and returns the change that makes `meta` and `members` match them. */
export async function conversationMirror(storage: Storage, conversationId: string): Promise<(doc: Y.Doc) => void> {
  const record = await storage.conversations.get(conversationId);
  const members = record ? await storage.conversations.members(conversationId) : [];
  return (doc) => {
    if (!record) return;
    const parts = conversationParts(doc);
    const meta: Record<string, unknown> = {
      id: record.id,
      title: record.title,
      kind: record.kind,
      createdAt: record.createdAt,
      createdBy: record.createdBy,
      ...(record.ref && { ref: record.ref }),
    };
    for (const [key, value] of Object.entries(meta)) {
      if (JSON.stringify(parts.meta.get(key)) !== JSON.stringify(value)) parts.meta.set(key, value);
    }
    const wanted = new Map(members.map((m) => [m.userId, { role: m.role, joinedAt: m.joinedAt } satisfies Member]));
    for (const userId of [...parts.members.keys()]) if (!wanted.has(userId)) parts.members.delete(userId);
    for (const [userId, member] of wanted) {
      const current = parts.members.get(userId);
      if (!current || current.role !== member.role || current.joinedAt !== member.joinedAt) parts.members.set(userId, member);
    }
  };
}
