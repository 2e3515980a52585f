import type { Extension, afterLoadDocumentPayload } from '@hocuspocus/server';
import { isRemote } from '../cluster/remoteOrigin';
import { inboxParts, parseDocName } from '@parley/schema';
import type { Logger } from '../logger';
import { chatReadsOf } from '../domain/notifications/readThrough';

export interface ChatReads {
  readThrough(userId: string, conversationId: string, messageId: string): Promise<void>;
}

/**
 * Connects inboxes to conversations: a chat notification marked read, by
 * the owner's client in the inbox document or by the API, reads the
 * conversation up to the message it is about (ChatNotifier.readThrough), so
 * the inbox and the conversation's unread badge agree (issue 12 item 6).
 */
export class InboxReadExtension implements Extension {
  constructor(private readonly deps: { chat: ChatReads; logger: Logger }) {}

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const name = parseDocName(documentName);
    if (name?.type !== 'inbox') return;
    const notifications = inboxParts(document).notifications;
    document.on('afterTransaction', (transaction) => {
      // Another server's change (issue 15): that server moves its receipts.
      if (isRemote(transaction.origin)) return;
      for (const read of chatReadsOf(transaction, notifications)) {
        // After the transaction, not in it: the receipt is a write of another document.
        this.deps.chat.readThrough(name.userId, read.conversationId, read.messageId).catch((error: unknown) => {
          this.deps.logger.warn({ err: error, documentName, conversationId: read.conversationId }, 'moving a read receipt from the inbox failed');
        });
      }
    });
  }
}
