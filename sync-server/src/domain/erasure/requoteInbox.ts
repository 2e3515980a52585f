import { inboxDocName } from '@parley/schema';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { chatNotifications, patchNotification } from '../notifications/inboxWrites';
import { currentQuotes, quotingIdPrefixes, requotedBody } from '../notifications/quotingNotifications';

/**
 * Rewrites the quotes of a user's notifications about a conversation, in the
 * inbox document and in the archive, to its messages as the index has them
 * now (a deleted one quotes `Message deleted`). The chat notifier does the
 * document part for members on every recompute; this reaches the archive,
 * and users who left, whom no recompute visits. Returns how many quoting
 * notifications about the conversation the user holds.
 */
export async function requoteInbox(deps: { storage: Storage; writer: ServerWriter }, userId: string, conversationId: string): Promise<number> {
  const { storage, writer } = deps;
  const inbox = inboxDocName(userId);
  const live = await writer.read(inbox, (doc) => chatNotifications(doc, conversationId, null).all);
  const archived = (await Promise.all(quotingIdPrefixes(conversationId).map((prefix) => storage.notificationArchive.withIdPrefix(userId, prefix)))).flat();
  if (live.length + archived.length === 0) return 0;
  const quotes = await currentQuotes(storage.messages, conversationId, [...live, ...archived].map((n) => n.data.messageId));
  if (live.some((n) => requotedBody(n, quotes) !== null)) {
    await writer.write(inbox, (doc) => {
      // Read again inside the write: the document may have changed since.
      for (const n of chatNotifications(doc, conversationId, null).all) {
        const body = requotedBody(n, quotes);
        if (body !== null) patchNotification(doc, n.id, { body });
      }
    });
  }
  const bodies = archived.flatMap((n) => {
    const body = requotedBody(n, quotes);
    return body === null ? [] : [{ id: n.id, body }];
  });
  if (bodies.length > 0) await storage.notificationArchive.setBodies(userId, bodies);
  return live.length + archived.length;
}
