import { Fragment, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useParley, useSession } from '../react';
import { Composer, type ComposerMode } from './Composer';
import { MessageItem } from './MessageItem';
import { ErrorBoundary } from './ErrorBoundary';
import { ConversationDetails } from './ConversationDetails';
import { dayLabel, firstUnreadId } from './timeline';
import { useUnreadJump } from './useUnreadJump';
import { PresenceLine } from './Presence';
import { useSeenReceipts } from './useSeenReceipts';
import { useBlocks } from './useBlocks';
import { ReportDialog } from './ReportDialog';
import { friendlyError } from './friendlyError';
import { useOlderHistory } from './useOlderHistory';
import { jumpTargets } from './jumpTargets';
import { withChange, type OutsideWindowChange } from '../sdk/OutsideWindowOutbox';
import type { Message } from '@parley/schema';
import type { MessageView } from '../sdk/types';

/** How many messages render at first and how many more each scroll to the top adds. */
const PAGE = 50;

/** A history message as the timeline shows it: the same object for as long as the message is. */
function viewOfOlder(cache: WeakMap<Message, MessageView>, message: Message): MessageView {
  let view = cache.get(message);
  if (!view) {
    view = { ...message, status: 'sent', readBy: [] };
    cache.set(message, view);
  }
  return view;
}

/** Per row, the label of the day it starts (null when it continues the day of the row above). */
function daySeparators(timeline: readonly MessageView[]): Array<string | null> {
  const now = Date.now();
  let previous: string | undefined;
  return timeline.map((message) => {
    const day = dayLabel(message.createdAt, now);
    const starts = day !== null && day.key !== previous;
    previous = day?.key;
    return starts ? day.label : null;
  });
}

/** History (older pages load on scroll), composer, typing indicator, read receipts. */
export function ConversationView({ id, at }: { id: string; /** A message to open at (a search result). */ at?: string | undefined }) {
  const session = useSession();
  // Never reopen here: a conversation the server refused stays closed until the user picks it again.
  const chat = session.hasConversation(id) ? session.conversation(id) : null;
  const snapshot = useParley((s) => s.active);
  const me = useParley((s) => s.me.userId);
  const entry = useParley((s) => s.conversations.find((c) => c.id === id));
  const title = entry?.title ?? id;
  const [visible, setVisible] = useState(PAGE);
  const [mode, setMode] = useState<ComposerMode>({ kind: 'new' });
  const list = useRef<HTMLOListElement>(null);
  const keepFromBottom = useRef<number | null>(null);
  const stickToBottom = useRef(true);
  const [details, setDetails] = useState(false);
  const blocks = useBlocks();
  const blockedIds = useMemo(() => new Set(blocks.map((b) => b.userId)), [blocks]);
  const [reporting, setReporting] = useState<MessageView | null>(null);
  const [reported, setReported] = useState<string | null>(null);
  // Where the unread divider goes: fixed when the conversation opens, so reading it does not move it.
  const [dividerAt, setDividerAt] = useState<{ id: string; messageId: string | null } | null>(null);

  useEffect(() => {
    setVisible(PAGE);
    setMode({ kind: 'new' });
    setDetails(false);
    stickToBottom.current = true;
  }, [id]);
  useEffect(() => {
    if (snapshot && snapshot.id === id && dividerAt?.id !== id) setDividerAt({ id, messageId: firstUnreadId(snapshot.messages, me, snapshot.reads[me]) });
  }, [snapshot, id, me, dividerAt]);
  const divider = dividerAt?.id === id ? dividerAt.messageId : null;
  const jump = useUnreadJump(list, divider, snapshot?.messages.length ?? 0, stickToBottom);

  const messages = useMemo(() => snapshot?.messages ?? [], [snapshot]);
  const shown = messages.slice(Math.max(0, messages.length - visible));
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const liveIds = useMemo(() => new Set(messages.map((m) => m.id)), [messages]);
  // Older than the live replica: history pages (the server, or this device's cache offline).
  const older = useOlderHistory(session, id, liveIds, messages[0]?.id);
  // One view per history message, kept while the message is: a page prepended above must not hand
  // every older row a new object (each would render again: scrolling back through 5,000 went quadratic).
  const views = useRef(new WeakMap<Message, MessageView>());
  const olderViews = useMemo(() => older.messages.map((m) => viewOfOlder(views.current, m)), [older.messages]);
  const allLiveShown = visible >= messages.length;
  // Before its first renewal the live document holds the whole conversation: no older page to offer or ask for.
  const renewed = (snapshot?.meta?.epoch ?? 0) > 0;
  const olderToLoad = (renewed || older.gap) && !older.exhausted;
  const shownOlder = allLiveShown || older.gap ? olderViews : [];
  const timeline = useMemo(() => [...shownOlder, ...shown], [shownOlder, shown]);
  // A day separator above each row that starts a day, worked out once per timeline, not per row and render.
  const dayStarts = useMemo(() => daySeparators(timeline), [timeline]);
  const jumped = useRef<string | null>(null);

  // A search result: scroll to it when it is loaded; out of the live replica, load the history around it.
  useEffect(() => {
    if (!at || !snapshot || jumped.current === `${id}/${at}`) return;
    jumped.current = `${id}/${at}`;
    stickToBottom.current = false;
    const index = messages.findIndex((m) => m.id === at);
    if (index >= 0) setVisible((v) => Math.max(v, messages.length - index + 5));
    else {
      const target = jumpTargets.get(at);
      if (target) older.jumpTo(target);
    }
  }, [at, id, snapshot, messages, older]);
  const scrolledTo = useRef<string | null>(null);
  useEffect(() => {
    if (!at || scrolledTo.current === `${id}/${at}`) return;
    const element = list.current?.querySelector(`[data-id="${CSS.escape(at)}"]`);
    if (!element) return;
    scrolledTo.current = `${id}/${at}`;
    element.scrollIntoView({ block: 'center' });
  });
  // Keys that stay with their message when older ones are added above (an index in the key would remount every row).
  const keys = useMemo(() => {
    const seen = new Map<string, number>();
    return timeline.map((m) => {
      const n = (seen.get(m.id) ?? 0) + 1;
      seen.set(m.id, n);
      return n === 1 ? m.id : `${m.id}#${n}`;
    });
  }, [timeline]);

  /** Edits, deletions and reactions: in the live replica, else queued for the server (works offline). */
  const change = (messageId: string, what: OutsideWindowChange) => {
    void session.changeMessage(id, messageId, what).then((where) => {
      if (where === 'queued') older.patch(messageId, (m: Message) => withChange(m, me, what));
    }, (e: unknown) => console.error('parley: change not queued', e));
  };

  // A mark per rendered message count, read by scripts/bench-first-render.ts.
  useEffect(() => {
    if (snapshot) performance.mark('parley:conversation-rendered', { detail: { id, count: messages.length } });
  }, [id, snapshot, messages.length]);

  // A receipt only for what is on screen in a looked-at tab (issue 12 item 4).
  useSeenReceipts(chat, list, shown);

  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    if (keepFromBottom.current !== null) {
      element.scrollTop = element.scrollHeight - keepFromBottom.current;
      keepFromBottom.current = null;
    } else if (stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [shown.length, messages, older.messages.length]);

  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    jump.onScroll();
    stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 40 && visible < messages.length) {
      keepFromBottom.current = element.scrollHeight - element.scrollTop;
      setVisible((v) => v + PAGE);
    } else if (element.scrollTop < 40 && olderToLoad && !older.loading && !older.problem) {
      keepFromBottom.current = element.scrollHeight - element.scrollTop;
      older.loadMore();
    }
  };

  if (!snapshot || !chat) return <p className="empty">This conversation is not available.</p>;
  const typing = snapshot.typing;
  return (
    <section className="conversation-view" aria-labelledby="conversation-title">
      <header>
        <a href="#/" className="back" aria-label="Back to conversations">
          ←
        </a>
        <h2 id="conversation-title" dir="auto">
          {title}
        </h2>
        {entry?.kind === 'direct' && <PresenceLine presence={entry.presence} lastSeenAt={entry.lastSeenAt} />}
        {snapshot.here.length > 0 && <span className="here">here: {snapshot.here.join(', ')}</span>}
        <button type="button" className="details-toggle" aria-expanded={details} aria-controls="conversation-details" onClick={() => setDetails((v) => !v)}>
          Details
        </button>
      </header>
      {details && <ConversationDetails id={id} onClose={() => setDetails(false)} />}
      <ol className="messages" ref={list} onScroll={onScroll} aria-label="Messages" data-testid="messages" tabIndex={0}>
        {(visible < messages.length || (olderToLoad && !older.loading)) && (
          <li className="older">
            <button
              type="button"
              onClick={() => {
                if (visible < messages.length) setVisible((v) => v + PAGE);
                else older.loadMore();
              }}
              data-testid="load-older"
            >
              Load older messages
            </button>
          </li>
        )}
        {older.loading && <li className="older" data-testid="older-loading">Loading older messages…</li>}
        {older.problem && (
          <li className="older" role="status" data-testid="older-problem">
            {older.problem}
          </li>
        )}
        {timeline.map((message, index) => (
          <Fragment key={keys[index]}>
          {older.gap && index === shownOlder.length && index > 0 && (
            <li className="history-gap" data-testid="history-gap">
              …
            </li>
          )}
          {dayStarts[index] && (
            <li className="day-separator" data-testid="day-separator">
              <span>{dayStarts[index]}</span>
            </li>
          )}
          {message.id === divider && (
            <li className="unread-divider" data-testid="unread-divider" ref={jump.dividerRef}>
              <span>New messages</span>
            </li>
          )}
          {/* One malformed message (any member can write one) must not take the timeline with it. */}
          <ErrorBoundary fallback={<li className="message broken" data-testid="message-broken">This message cannot be shown.</li>}>
          <MessageItem
            message={message}
            me={me}
            mine={message.author === me}
            others={Math.max(0, Object.keys(snapshot.members).length - 1)}
            repliedTo={message.replyTo ? byId.get(message.replyTo) : undefined}
            onReply={() => setMode({ kind: 'reply', to: message })}
            onEdit={() => setMode({ kind: 'edit', message })}
            onDelete={() => change(message.id, { op: 'delete' })}
            onReact={(emoji) => change(message.id, { op: 'reaction', emoji, on: !(`${me}:${emoji}` in message.reactions) })}
            highlight={message.id === at}
            blocked={message.author !== me && blockedIds.has(message.author)}
            onReport={() => setReporting(message)}
          />
          </ErrorBoundary>
          </Fragment>
        ))}
      </ol>
      {jump.show && (
        <button type="button" className="jump" onClick={jump.go} data-testid="jump-new">
          ↓ New messages
        </button>
      )}
      <p className="typing" aria-live="polite" data-testid="typing">
        {typing.length > 0 ? `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…` : ''}
      </p>
      {reported && (
        <p role="status" className="hint" data-testid="report-status">
          {reported}
        </p>
      )}
      {reporting && (
        <ReportDialog
          author={reporting.author}
          onClose={() => setReporting(null)}
          onSubmit={async (reason) => {
            try {
              await session.api.report(id, reporting.id, reason);
              setReported('Thank you. The message was reported to the moderators.');
              return null;
            } catch (e) {
              return friendlyError(e);
            }
          }}
        />
      )}
      <Composer
        chat={chat}
        mode={mode}
        onDone={() => setMode({ kind: 'new' })}
        onEdit={(messageId, text) => change(messageId, { op: 'edit', text })}
        members={Object.keys(snapshot.members)}
        me={me}
      />
    </section>
  );
}
