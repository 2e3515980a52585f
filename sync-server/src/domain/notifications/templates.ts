/**
 * Title and body of each notification kind. Placeholders in braces: {actor}
 * (display name), {conversation} (title), {text} (message), {subject.type},
 * {subject.id} and {data.<key>} from the event. A new kind needs one line here.
 */
export const TEMPLATES: Record<string, { title: string; body: string }> = {
  new_message: { title: '{actor} in {conversation}', body: '{text}' },
  /** A direct chat has no title of its own: the sender is the conversation. */
  'new_message.direct': { title: '{actor}', body: '{text}' },
  /** Issue 14: a member named in a message, and a reporter told their report was handled (never quoting the message). */
  mention: { title: '{actor} mentioned you in {conversation}', body: '{text}' },
  'mention.direct': { title: '{actor} mentioned you', body: '{text}' },
  report_handled: { title: 'Your report was handled', body: 'A moderator reviewed the message you reported. Thank you for telling us.' },
  new_job: { title: 'New job: {data.title}', body: '{actor} posted a job{data.location}' },
  new_quote: { title: 'New quote for your job', body: '{actor} sent a quote{data.amount}' },
  quote_accepted: { title: 'Your quote was accepted', body: '{actor} accepted your quote. You can now chat about the job.' },
  quote_rejected: { title: 'Your quote was declined', body: '{actor} declined your quote.' },
  job_started: { title: 'Your job has started', body: '{actor} started work on your job.' },
  job_completed: { title: 'Your job is complete', body: '{actor} marked your job as complete.' },
  payment_received: { title: 'Payment received', body: 'You received a payment{data.amount}.' },
  payment_failed: { title: 'Payment failed', body: 'A payment{data.amount} could not be completed.' },
  new_review: { title: 'You have a new review', body: '{actor} left you a review{data.rating}.' },
  system: { title: '{data.title}', body: '{data.body}' },
};

const FALLBACK = { title: 'Notification', body: '' };

/** Values for the placeholders; missing ones render as nothing. Amounts, ratings and locations get their own lead-in. */
export function render(kind: string, vars: { actor?: string; conversation?: string; text?: string; subject?: { type: string; id: string }; data?: Record<string, unknown> }) {
  const template = TEMPLATES[kind] ?? FALLBACK;
  const lookup = (name: string): string => {
    if (name === 'actor') return vars.actor ?? 'Someone';
    if (name === 'conversation') return vars.conversation || 'a conversation';
    if (name === 'text') return vars.text ?? '';
    if (name === 'subject.type') return vars.subject?.type ?? '';
    if (name === 'subject.id') return vars.subject?.id ?? '';
    if (name.startsWith('data.')) {
      const key = name.slice(5);
      const value = vars.data?.[key];
      if (value === undefined || value === null || typeof value === 'object') return key === 'title' ? (vars.subject?.id ?? '') : '';
      if (key === 'amount') return ` of ${String(value)}`;
      if (key === 'rating') return ` (${String(value)}/5)`;
      if (key === 'location') return ` in ${String(value)}`;
      return String(value);
    }
    return '';
  };
  const fill = (text: string) => text.replace(/\{([a-zA-Z.]+)\}/g, (_, name: string) => lookup(name)).slice(0, 1000);
  return { title: fill(template.title), body: fill(template.body) };
}
