import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationHandle } from '../sdk/ConversationHandle';
import type { MessageView } from '../sdk/types';

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: MessageView } | { kind: 'edit'; message: MessageView };

/** Writes, replies to and edits messages; Enter sends, Shift+Enter breaks the line, Escape cancels. */
export function Composer({ chat, mode, onDone }: { chat: ConversationHandle; mode: ComposerMode; onDone: () => void }) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.text);
    input.current?.focus();
  }, [mode]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value) return;
    if (mode.kind === 'edit') chat.edit(mode.message.id, value);
    else if (mode.kind === 'reply') chat.reply(mode.to.id, value);
    else chat.send(value);
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
        onChange={(e) => {
          setText(e.target.value);
          chat.setTyping(e.target.value.length > 0);
        }}
        onBlur={() => chat.setTyping(false)}
        onKeyDown={onKeyDown}
      />
      <button type="submit">{mode.kind === 'edit' ? 'Save' : 'Send'}</button>
    </form>
  );
}
