import type { Extension, afterLoadDocumentPayload } from '@hocuspocus/server';
import { parseDocName } from '@parley/schema';
import { isRemote } from '../cluster/remoteOrigin';

/** What the extension tells about conversation changes (the ChatNotifier listens). */
export interface ConversationChanges {
  schedule(conversationId: string): void;
}

/**
 * Connects conversations to the chat notifier: every change schedules a
 * recompute. The durable mark that makes a crash unable to skip a
 * notification is written with the change itself, by the write pipeline
 * (PersistenceExtension), in the same transaction.
 */
export class NotificationExtension implements Extension {
  constructor(private readonly notifier: ConversationChanges) {}

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const name = parseDocName(documentName);
    if (name?.type !== 'conversation') return;
    // Another server's change (issue 15) is scheduled there, where its durable mark was written.
    document.on('update', (_update: Uint8Array, origin: unknown) => {
      if (!isRemote(origin)) this.notifier.schedule(name.id);
    });
  }
}
