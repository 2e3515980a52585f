import type { Extension, afterLoadDocumentPayload, beforeSyncPayload } from '@hocuspocus/server';
import { parseDocName } from '@parley/schema';
import { isConnectionOrigin } from './context';
import { carriesUpdate, isEmptyUpdate } from './syncMessages';

/** What the extension tells about conversation changes (the ChatNotifier listens). */
export interface ConversationChanges {
  mark(conversationId: string): Promise<void>;
  schedule(conversationId: string): void;
}


/**
 * Connects conversations to the chat notifier: a client update marks its
 * conversation durably before it is stored (so a crash cannot skip the
 * notification), and every change schedules a recompute.
 */
export class NotificationExtension implements Extension {
  /** After validation, before persistence. */
  priority = 300;

  constructor(private readonly notifier: ConversationChanges) {}

  async beforeSync({ type, payload, documentName }: beforeSyncPayload): Promise<void> {
    if (!carriesUpdate(type)) return;
    const name = parseDocName(documentName);
    if (name?.type !== 'conversation' || isEmptyUpdate(payload)) return;
    // Not awaited: the mark is queued before the update's append and storage commits in
    // order, so the acknowledged update is never durable without its mark (see GroupCommit).
    this.markQuietly(name.id);
  }

  private markQuietly(conversationId: string): void {
    this.notifier.mark(conversationId).catch(() => {
      // The same commit fails the update's append, which the client then retries.
    });
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const name = parseDocName(documentName);
    if (name?.type !== 'conversation') return;
    document.on('update', (_update: Uint8Array, origin: unknown) => {
      // Client updates were marked in beforeSync; the server's own writes are marked here.
      if (!isConnectionOrigin(origin)) this.markQuietly(name.id);
      this.notifier.schedule(name.id);
    });
  }
}
