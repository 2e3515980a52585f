import { NotificationKinds, channelsFor, inboxDocName, readPrefs, setChannels } from '@parley/schema';
import type { ServerWriter } from '../sync/ServerWriter';

/**
 * The one-click unsubscribe (RFC 8058): email off for every kind, so the
 * user's preferences show `email: false` wherever they look. Other channels
 * keep what they were.
 */
export async function turnEmailOff(writer: ServerWriter, userId: string): Promise<void> {
  await writer.write(inboxDocName(userId), (doc) => {
    const prefs = readPrefs(doc);
    const kinds = new Set<string>([...NotificationKinds, 'mention', ...Object.keys(prefs.channels)]);
    for (const kind of kinds) setChannels(doc, kind, { ...channelsFor(prefs, kind), email: false });
  });
}
