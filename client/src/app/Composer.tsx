import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationHandle } from '../sdk/ConversationHandle';
import type { MessageView } from '../sdk/types';
import { DEFAULTS, utf8Length } from '@parley/schema';

/** The counter shows from this share of the limit on, so it is there before the limit and not in the way before. */
const COUNTER_FROM = 0.8;
const LIMIT = DEFAULTS.messageTextMaxBytes;

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: MessageView } | { kind: 'edit'; message: MessageView };

/** Writes, replies to and edits messages; Enter sends, Shift+Enter breaks the line, Escape cancels. */
export function Composer({ chat, mode, onDone, onEdit }: { chat: ConversationHandle; mode: ComposerMode; onDone: () => void; /** Edits (default: in the live replica). */ onEdit?: (messageId: string, text: string) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const bytes = utf8Length(text.trim());
  const over = bytes > LIMIT;

  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.text);
    input.current?.focus();
  }, [mode]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value) return;
    if (over) {
      setError(`Too long to send: ${bytes.toLocaleString('en')} bytes, the limit is ${LIMIT.toLocaleString('en')} (16 KiB). Shorten it or split it into several messages.`);
      return;
    }
    try {
      if (mode.kind === 'edit') (onEdit ?? ((messageId: string, text: string) => chat.edit(messageId, text)))(mode.message.id, value);
      else if (mode.kind === 'reply') chat.reply(mode.to.id, value);
      else chat.send(value);
    } catch (e) {
      // The text stays in the box: nothing is lost.
      setError(`Not sent: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    setError(null);
    setText('');
    onDone();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) submit(event);
    if (event.key === 'Escape') {
      setText('');
      onDone();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      {mode.kind !== 'new' && (
        <div className="composer-mode">
          {mode.kind === 'reply' ? `Replying to ${mode.to.author}: ${mode.to.text.slice(0, 60)}` : 'Editing message'}
          <button type="button" onClick={onDone} aria-label="Cancel">
            ✕
          </button>
        </div>
      )}
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={1}
        value={text}
        placeholder="Write a message"
        dir="auto"
        aria-describedby="composer-counter"
        aria-invalid={over}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
          chat.setTyping(e.target.value.length > 0);
        }}
        onBlur={() => chat.setTyping(false)}
        onKeyDown={onKeyDown}
      />
      <button type="submit">{mode.kind === 'edit' ? 'Save' : 'Send'}</button>
      <p id="composer-counter" className={over ? 'counter over' : 'counter'} data-testid="composer-counter" aria-live="polite">
        {bytes >= LIMIT * COUNTER_FROM ? `${bytes.toLocaleString('en')} / ${LIMIT.toLocaleString('en')} bytes${over ? ' (too long)' : ''}` : ''}
      </p>
      {error && (
        <p role="alert" className="composer-error" data-testid="composer-error">
          {error}
        </p>
      )}
    </form>
  );
}
