import { useEffect, useId, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { ConversationHandle } from '../sdk/ConversationHandle';
import type { MessageView } from '../sdk/types';
import { DEFAULTS, utf8Length } from '@parley/schema';
import { formatSize } from './AttachmentList';
import { completeMention, mentionAtCaret, mentionCandidates, mentionsIn } from './mentions';
import { useHeld, useOutgoing } from './useOutgoing';

/** The counter shows from this share of the limit on, so it is there before the limit and not in the way before. */
const COUNTER_FROM = 0.8;
const LIMIT = DEFAULTS.messageTextMaxBytes;

export type ComposerMode = { kind: 'new' } | { kind: 'reply'; to: MessageView } | { kind: 'edit'; message: MessageView };

interface Suggestion {
  start: number;
  caret: number;
  options: string[];
  active: number;
}

/**
 * Writes, replies to and edits messages; Enter sends, Shift+Enter breaks the
 * line, Escape cancels. Typing `@` offers the conversation's members (the
 * WAI-ARIA combobox pattern: the text box controls a listbox, ArrowDown and
 * ArrowUp move the active option, Enter or Tab take it, Escape closes the
 * list); a sent message mentions every member whose `@id` it contains.
 */
export function Composer({
  chat,
  mode,
  onDone,
  onEdit,
  members = [],
  me = '',
}: {
  chat: ConversationHandle;
  mode: ComposerMode;
  onDone: () => void;
  /** Edits (default: in the live replica). */
  onEdit?: (messageId: string, text: string) => void;
  members?: string[];
  me?: string;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [suggestion, setSuggestion] = useState<Suggestion | null>(null);
  const listId = useId();
  const input = useRef<HTMLTextAreaElement>(null);
  const others = members.filter((m) => m !== me);

  /** Looks for an `@word` at the caret and offers the members it could be. */
  const suggest = (value: string, caret: number) => {
    const at = mentionAtCaret(value, caret);
    const options = at ? mentionCandidates(others, at.query) : [];
    setSuggestion(at && options.length > 0 ? { start: at.start, caret, options, active: 0 } : null);
  };
  const take = (id: string) => {
    if (!suggestion) return;
    const done = completeMention(text, suggestion.start, suggestion.caret, id);
    setText(done.text);
    setSuggestion(null);
    requestAnimationFrame(() => input.current?.setSelectionRange(done.caret, done.caret));
  };
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
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
    const mentions = mentionsIn(value, others, me);
    try {
      // An edit keeps the message's mentions (the server notifies only mentions an edit adds; this app adds none).
      if (mode.kind === 'edit') (onEdit ?? ((messageId: string, text: string) => chat.edit(messageId, text)))(mode.message.id, value);
      else if (mode.kind === 'reply') chat.reply(mode.to.id, value, { mentions });
      else if (files.length > 0) {
        // Held durably (IndexedDB) until its files are uploaded, then sent: offline too.
        const sending = files;
        setFiles([]);
        outgoing.hold(chat.id, value, sending).catch((e: unknown) => {
          setFiles(sending);
          setError(`Not sent: ${e instanceof Error ? e.message : String(e)}`);
        });
      } else chat.send(value, { mentions });
    } catch (e) {
      // The text stays in the box: nothing is lost.
      setError(`Not sent: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    setError(null);
    setText('');
    setSuggestion(null);
    onDone();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestion) {
      const count = suggestion.options.length;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setSuggestion({ ...suggestion, active: (suggestion.active + step + count) % count });
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        take(suggestion.options[suggestion.active]!);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setSuggestion(null);
        return;
      }
    }
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
      {suggestion && (
        <ul className="mention-list" role="listbox" id={listId} aria-label="Mention a member" data-testid="mention-list">
          {suggestion.options.map((id, index) => (
            <li
              key={id}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === suggestion.active}
              className={index === suggestion.active ? 'active' : undefined}
              // Keeps the focus in the text box: the list is driven from there.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => take(id)}
            >
              @{id}
            </li>
          ))}
        </ul>
      )}
      <textarea
        id="composer-input"
        ref={input}
        rows={1}
        value={text}
        placeholder="Write a message"
        dir="auto"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={suggestion !== null}
        aria-controls={suggestion ? listId : undefined}
        aria-activedescendant={suggestion ? `${listId}-${suggestion.active}` : undefined}
        aria-describedby="composer-counter"
        aria-invalid={over}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
          chat.setTyping(e.target.value.length > 0);
          suggest(e.target.value, e.target.selectionStart);
        }}
        onSelect={(e) => {
          const box = e.currentTarget;
          if (suggestion && box.selectionStart !== suggestion.caret) suggest(box.value, box.selectionStart);
        }}
        onBlur={() => {
          chat.setTyping(false);
          setSuggestion(null);
        }}
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
