import { useCallback, useEffect, useRef, useState } from 'react';
import type { Message } from '@parley/schema';
import type { Session } from '../sdk/Session';
import { HistoryUnavailable } from '../sdk/HistoryCache';
import { friendlyError } from './friendlyError';

export interface OlderHistory {
  /** Messages older than the live replica's, oldest first (from history pages: the server, or this device's cache offline). */
  messages: Message[];
  /** No older message exists. */
  exhausted: boolean;
  loading: boolean;
  /** Why the last page could not load (offline past the cached part, a refusal). */
  problem: string | null;
  /** Loads the next older page (no-op while loading or exhausted). */
  loadMore(): void;
  /** Starts over at a message (a search result): the page before it, then older pages on demand. */
  jumpTo(message: Message): void;
  /** Shows a change queued for an old message at once. */
  patch(messageId: string, change: (m: Message) => Message): void;
  /** Whether `messages` starts at a jumped-to message, with a gap between it and the live messages. */
  gap: boolean;
}

/**
 * "Load older" beyond the live replica (issue 9): the live document holds the
 * newest messages, older ones come page by page from `GET .../messages`,
 * through the session's HistoryCache, so what the user scrolled through once
 * is there offline too. `oldestLive` is the oldest message of the live
 * replica: the first older page is asked `before` it (a message id), later
 * ones with each page's `nextCursor`, the same sequence online and offline.
 */
export function useOlderHistory(session: Session, conversationId: string, liveIds: ReadonlySet<string>, oldestLive: string | undefined): OlderHistory {
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [gap, setGap] = useState(false);
  const generation = useRef(0);

  useEffect(() => {
    generation.current++;
    setMessages([]);
    setCursor(undefined);
    setLoading(false);
    setProblem(null);
    setGap(false);
  }, [conversationId]);

  const load = useCallback(
    (before: string | undefined, reset: Message[] | null) => {
      const mine = generation.current;
      setLoading(true);
      session.history
        .load(conversationId, before)
        .then((page) => {
          if (mine !== generation.current) return;
          setMessages((current) => {
            const base = reset ?? current;
            const known = new Set(base.map((m) => m.id));
            const older = page.messages.filter((m) => !known.has(m.id) && !liveIds.has(m.id)).reverse();
            return [...older, ...base];
          });
          setCursor(page.nextCursor);
          setProblem(null);
        })
        .catch((error: unknown) => {
          if (mine !== generation.current) return;
          if (reset) setMessages(reset);
          setProblem(error instanceof HistoryUnavailable ? 'Offline: older messages than these were not loaded on this device yet.' : friendlyError(error));
        })
        .finally(() => {
          if (mine === generation.current) setLoading(false);
        });
    },
    [session, conversationId, liveIds],
  );

  // A change to a shown old message, by anyone, announced by the server (Session 'messageUpdated'; issue 9).
  useEffect(
    () =>
      session.on('messageUpdated', ({ conversationId: changedIn, message }) => {
        if (changedIn === conversationId) setMessages((current) => current.map((m) => (m.id === message.id ? message : m)));
      }),
    [session, conversationId],
  );

  const exhausted = cursor === null;
  const loadMore = useCallback(() => {
    if (loading || exhausted) return;
    load(cursor ?? oldestLive, null);
  }, [loading, exhausted, cursor, oldestLive, load]);

  const jumpTo = useCallback(
    (message: Message) => {
      generation.current++;
      setGap(true);
      setCursor(undefined);
      load(message.id, [message]);
    },
    [load],
  );

  const patch = useCallback((messageId: string, change: (m: Message) => Message) => {
    setMessages((current) => current.map((m) => (m.id === messageId ? change(m) : m)));
  }, []);

  return { messages, exhausted, loading, problem, loadMore, jumpTo, patch, gap };
}
