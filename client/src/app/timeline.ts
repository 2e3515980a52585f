import type { ReadReceipt } from '@parley/schema';
import type { MessageView } from '../sdk/types';

/** A day's label for its separator: "Today", "Yesterday" or the date; null for a message with no usable time. */
export function dayLabel(ms: unknown, now = Date.now()): { key: string; label: string } | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return null;
  const key = date.toDateString();
  const today = new Date(now);
  const yesterday = new Date(now - 86_400_000);
  const label =
    key === today.toDateString()
      ? 'Today'
      : key === yesterday.toDateString()
        ? 'Yesterday'
        : date.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', ...(date.getFullYear() !== today.getFullYear() && { year: 'numeric' }) });
  return { key, label };
}

/** The first message by someone else after `receipt` (what the unread divider goes above), or null. */
export function firstUnreadId(messages: readonly MessageView[], me: string, receipt: ReadReceipt | undefined): string | null {
  let start = 0;
  if (receipt) {
    const at = messages.findIndex((m) => m.id === receipt.messageId);
    if (at >= 0) start = at + 1;
  }
  for (let i = start; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.author !== me && m.deletedAt === undefined && m.kind !== 'system') return m.id;
  }
  return null;
}
