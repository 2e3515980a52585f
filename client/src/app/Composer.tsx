import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationHandle } from '../sdk/ConversationHandle';
import type { MessageView } from '../sdk/types';
import { DEFAULTS, utf8Length } from '@parley/schema';
import { useHeld, useOutgoing } from './useOutgoing';
import { formatSize } from './AttachmentList';

/** The counter shows from this share of the limit on, so it is there before the limit and not in the way before. */
const COUNTER_FROM = 0.8;
const LIMIT = DEFAULTS.messageTextMaxBytes;

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: MessageView } | { kind: 'edit'; message: MessageView };

/** Writes, replies to and edits messages; Enter sends, Shift+Enter breaks the line, Escape cancels. */
export function Composer({ chat, mode, onDone }: { chat: ConversationHandle; mode: ComposerMode; onDone: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const chooser = useRef<HTMLInputElement>(null);
  const outgoing = useOutgoing();
  const held = useHeld(chat.id);
  const canAttach = mode.kind === 'new';
  const addFiles = (list: FileList | File[] | null) => {
    const chosen = [...(list ?? [])];
    const tooBig = chosen.find((f) => f.size > DEFAULTS.uploadMaxBytes);
    if (tooBig) setError(`${tooBig.name} is ${formatSize(tooBig.size)}; a file is at most ${formatSize(DEFAULTS.uploadMaxBytes)}.`);
    const fitting = chosen.filter((f) => f.size <= DEFAULTS.uploadMaxBytes && f.size > 0);
    if (fitting.length) setFiles((current) => [...current, ...fitting].slice(0, DEFAULTS.attachmentsMaxPerMessage));
  };
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    if (!canAttach || event.clipboardData.files.length === 0) return;
    event.preventDefault();
    addFiles(event.clipboardData.files);
  };
  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    setDragging(false);
    if (!canAttach || event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  };
  const bytes = utf8Length(text.trim());
  const over = bytes > LIMIT;

  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.text);
    input.current?.focus();
  }, [mode]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const value = text.trim();
    if (!value && files.length === 0) return;
    if (over) {
      setError(`Too long to send: ${bytes.toLocaleString('en')} bytes, the limit is ${LIMIT.toLocaleString('en')} (16 KiB). Shorten it or split it into several messages.`);
      return;
    }
    try {
      if (mode.kind === 'edit') chat.edit(mode.message.id, value);
      else if (mode.kind === 'reply') chat.reply(mode.to.id, value);
      else if (files.length > 0) {
        // Held durably (IndexedDB) until its files are uploaded, then sent: offline too.
        const sending = files;
        setFiles([]);
        outgoing.hold(chat.id, value, sending).catch((e: unknown) => {
          setFiles(sending);
          setError(`Not sent: ${e instanceof Error ? e.message : String(e)}`);
        });
      } else chat.send(value);
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
    <form
      className={dragging ? 'composer dragging' : 'composer'}
      onSubmit={submit}
      onDragOver={(event) => {
        if (!canAttach || !event.dataTransfer.types.includes('Files')) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {held.length > 0 && (
        <ul className="held-uploads" data-testid="held-uploads" aria-live="polite">
          {held.map((h) => (
            <li key={h.id} data-state={h.state}>
              {h.names.join(', ')}:{' '}
              {h.state === 'uploading' ? (
                <progress max={1} value={h.progress} aria-label={`Uploading ${h.names.join(', ')}`} />
              ) : h.state === 'waiting-for-network' ? (
                'waiting for the network'
              ) : (
                <>
                  not sent ({h.error}){' '}
                  <button type="button" onClick={() => void outgoing.discard(h.id)}>
                    Discard
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="chosen-files" data-testid="chosen-files">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`}>
              {f.name} ({formatSize(f.size)})
              <button type="button" aria-label={`Remove ${f.name}`} onClick={() => setFiles((current) => current.filter((_, j) => j !== i))}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
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
        onPaste={onPaste}
      />
      {canAttach && (
        <>
          <input
            ref={chooser}
            type="file"
            multiple
            hidden
            data-testid="attach-input"
            onChange={(e) => {
              addFiles(e.target.files);
              e.target.value = '';
            }}
          />
          <button type="button" className="attach" aria-label="Attach files" onClick={() => chooser.current?.click()}>
            📎
          </button>
        </>
      )}
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
