import * as Y from 'yjs';
import { inboxDocName, inboxParts, listNotifications, notificationToJSON, readPrefs, type Notification, type Prefs } from '@parley/schema';
import type { ServerWriter } from '../sync/ServerWriter';

/** A user's inbox as a delivery step reads it when it runs: the truth about read state and preferences. */
export class InboxLookup {
  constructor(private readonly writer: ServerWriter) {}

  one(userId: string, notificationId: string): Promise<{ notification: Notification | null; prefs: Prefs }> {
    return this.writer.read(inboxDocName(userId), (doc) => {
      const map = inboxParts(doc).notifications.get(notificationId);
      return { notification: map instanceof Y.Map ? notificationToJSON(map) : null, prefs: readPrefs(doc) };
    });
  }

  all(userId: string): Promise<{ notifications: Notification[]; prefs: Prefs }> {
    return this.writer.read(inboxDocName(userId), (doc) => ({ notifications: listNotifications(doc), prefs: readPrefs(doc) }));
  }
}
