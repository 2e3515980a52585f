import { z } from 'zod';

const OpenMessage = z.object({ type: z.literal('parley:open'), url: z.string().max(4096) });

/**
 * Shows the page a clicked push notification points to, in this tab. Only a
 * page of this app: the hash route changes, nothing reloads, so a draft or
 * an open conversation elsewhere in the tab is not lost.
 */
export function openFromNotification(data: unknown): void {
  const message = OpenMessage.safeParse(data);
  if (!message.success) return;
  let url: URL;
  try {
    url = new URL(message.data.url, location.origin);
  } catch {
    return;
  }
  if (url.origin !== location.origin) return;
  if (url.pathname === location.pathname) location.hash = url.hash;
  else location.assign(url.href);
}
