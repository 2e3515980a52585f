import { memo, useState } from 'react';
import { groupReactions } from '@parley/schema';
import type { MessageView } from '../sdk/types';
import { Avatar } from './Avatar';
import { formatMessage } from './formatMessage';
import { formatTime } from './formatTime';
import { highlightMentions } from './highlightMentions';
import { MessageActions } from './MessageActions';
import { ReadBy } from './ReadBy';
import { AttachmentList } from './AttachmentList';


/** `saving` (not yet in IndexedDB) is an ellipsis before the clock of `pending` (safe on this device, waiting for the server). */
const TICKS = {
  saving: { mark: '…', label: 'saving' },
  pending: { mark: '🕓', label: 'pending' },
  sent: { mark: '✓', label: 'sent' },
  read: { mark: '✓✓', label: 'read' },
} as const satisfies Record<MessageView['status'], { mark: string; label: string }>;

interface Props {
  message: MessageView;
  mine: boolean;
  me: string;
  /** Other members: a group (more than one) shows "read by N". */
  others?: number;
  repliedTo: MessageView | undefined;
  onReply(): void;
  onEdit(): void;
  onDelete(): void;
  onReact(emoji: string): void;
  /** Issue 14: the author is blocked by the reader (the message is collapsed until shown). */
  blocked?: boolean;
  onReport?(): void;
  /** The message a search result opened the conversation at. */
  highlight?: boolean;
}

/** One message: text, reply quote, reactions, actions and (for own messages) its delivery ticks. */
function MessageItemView({ message, mine, me, others = 1, repliedTo, onReply, onEdit, onDelete, onReact, blocked = false, onReport, highlight = false }: Props) {
  const [shown, setShown] = useState(false);
  const deleted = message.deletedAt !== undefined;
  const reactions = groupReactions(message.reactions);
  const time = formatTime(message.createdAt, 'time');
  if (blocked && !shown) {
    return (
      <li className="message collapsed" data-testid="message" data-id={message.id} data-blocked="true">
        <span className="hint">Message from a blocked user</span>{' '}
        <button type="button" onClick={() => setShown(true)} aria-label={`Show the message from ${message.author}, whom you blocked`}>
          Show
        </button>
      </li>
    );
  }
  const mentionsMe = !deleted && (message.mentions ?? []).includes(me);
  return (
    <li
      className={`message${mine ? ' mine' : ''}${mentionsMe ? ' mentions-me' : ''}${highlight ? ' jump-target' : ''}`}
      data-testid="message"
      data-id={message.id}
      data-status={mine ? message.status : undefined}
    >
      <div className="message-head">
        <Avatar name={message.author} />
        <span className="author">{message.author}</span> {time && <time dateTime={time.iso}>{time.label}</time>}
        {message.editedAt !== undefined && !deleted && <span className="edited"> (edited)</span>}
      </div>
      {repliedTo && (
        <blockquote className="reply-quote" dir="auto">
          ↪ {repliedTo.author}: {repliedTo.deletedAt ? 'deleted message' : repliedTo.text.slice(0, 80)}
        </blockquote>
      )}
      <p className={deleted ? 'text deleted' : 'text'} data-testid="message-text" dir="auto">
        {deleted ? 'Message deleted' : highlightMentions(formatMessage(message.text), message.mentions, me)}
      </p>
      {!deleted && message.attachments && <AttachmentList attachments={message.attachments} />}
      <div className="message-foot">
        {Object.entries(reactions).map(([emoji, users]) => (
          <button
            key={emoji}
            type="button"
            className={users.includes(me) ? 'reaction own' : 'reaction'}
            aria-pressed={users.includes(me)}
            aria-label={`${emoji} ${users.length}, ${users.join(', ')}`}
            onClick={() => onReact(emoji)}
          >
            {emoji} {users.length}
          </button>
        ))}
        {mine && (
          <span className={`ticks ${message.status}`} data-testid="ticks" role="img" aria-label={TICKS[message.status].label}>
            {TICKS[message.status].mark}
          </span>
        )}
        {mine && others > 1 && <ReadBy users={message.readBy} others={others} />}
      </div>
      {!deleted && (
        <MessageActions
          mine={mine}
          label={`Actions for ${mine ? 'your' : `${message.author}'s`} message${time ? ` at ${time.label}` : ''}`}
          onReply={onReply}
          onEdit={onEdit}
          onDelete={onDelete}
          onReact={onReact}
          onReport={onReport}
        />
      )}
    </li>
  );
}

/**
 * Rows re-render only when what they show changes: the handlers are made
 * afresh on each render of the list but act on the same message, so they do
 * not count. Scrolling back through thousands of messages then renders the
 * rows it adds, not every row again.
 */
export const MessageItem = memo(MessageItemView, (before, after) =>
  before.message === after.message &&
  before.mine === after.mine &&
  before.me === after.me &&
  before.others === after.others &&
  before.repliedTo === after.repliedTo &&
  before.highlight === after.highlight &&
  before.blocked === after.blocked,
);
