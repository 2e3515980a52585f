import { DEFAULTS } from '@parley/schema';

/** One notification as a digest lists it. */
export interface DigestItem {
  title: string;
  /** The conversation's title (chat) or null. */
  conversation: string | null;
  /** The sender's display name, or null. */
  sender: string | null;
  /** The latest text (the notification's body). */
  text: string;
  count: number;
  link: string;
}

export interface DigestMail {
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Everything from a notification is text: escaped for HTML, attributes included. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const quote = (text: string): string => (text.length > DEFAULTS.deliveryQuoteMaxChars ? `${text.slice(0, DEFAULTS.deliveryQuoteMaxChars)}…` : text);
/** A header line must not carry a line break (header injection). */
const oneLine = (text: string): string => text.replace(/[\r\n\t]+/g, ' ').trim();

function lead(item: DigestItem): string {
  const where = item.conversation ? ` in ${item.conversation}` : '';
  const who = item.sender ? `${item.sender}${where}` : item.title;
  return item.count > 1 ? `${who} (${item.count} new)` : who;
}

/** The digest: one email listing every item, with text and HTML parts and the unsubscribe link. */
export function digestMail(items: DigestItem[], appUrl: string, unsubscribeUrl: string): DigestMail {
  const subject = oneLine(items.length === 1 ? `Parley: ${items[0]!.title}` : `Parley: ${items.length} unread notifications`);
  const textItems = items.map((item) => `* ${lead(item)}\n  ${item.title}\n  ${quote(item.text)}\n  ${item.link}`).join('\n\n');
  const text = `You have unread notifications on Parley:\n\n${textItems}\n\nOpen Parley: ${appUrl}\n\nTo stop these emails: ${unsubscribeUrl}\n`;
  const htmlItems = items
    .map(
      (item) =>
        `<li><p><strong>${escapeHtml(lead(item))}</strong><br>${escapeHtml(item.title)}</p>` +
        `<blockquote>${escapeHtml(quote(item.text))}</blockquote><p><a href="${escapeHtml(item.link)}">Open</a></p></li>`,
    )
    .join('\n');
  const html =
    `<!doctype html><html><body><p>You have unread notifications on Parley:</p><ul>\n${htmlItems}\n</ul>` +
    `<p><a href="${escapeHtml(appUrl)}">Open Parley</a></p>` +
    `<p style="font-size:small">To stop these emails, <a href="${escapeHtml(unsubscribeUrl)}">unsubscribe</a>.</p></body></html>`;
  return { subject, text, html };
}
