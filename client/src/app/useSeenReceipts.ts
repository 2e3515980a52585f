import { useCallback, useEffect, useRef, type RefObject } from 'react';
import type { ConversationHandle } from '../sdk/ConversationHandle';
import type { MessageView } from '../sdk/types';

/** How much of a message (or of the list's height, for a tall one) must be on screen to count as seen. */
const SEEN_RATIO = 0.5;

/** The tab is in front and has the keyboard: what is on screen is being looked at. */
const looking = () => document.visibilityState === 'visible' && document.hasFocus();

/**
 * Read receipts that mean what they say (issue 12 item 4): the receipt
 * moves to the newest message that is on screen (IntersectionObserver over
 * the message list) while the tab is visible and focused, and only then. A
 * reader scrolled up to old messages, or a tab in the background or without
 * focus, sends nothing; once the tab is looked at again, what is on screen
 * is read.
 */
export function useSeenReceipts(chat: ConversationHandle | null, list: RefObject<HTMLElement | null>, messages: MessageView[]): void {
  const onScreen = useRef(new Set<string>());
  const order = useRef(messages);
  order.current = messages;

  const chatRef = useRef(chat);
  chatRef.current = chat;
  // Stable, so the observer lives as long as its list; it reads the newest handle and messages through refs.
  const readWhatIsSeen = useCallback(() => {
    const current = chatRef.current;
    if (!current || !looking()) return;
    const shown = order.current;
    for (let i = shown.length - 1; i >= 0; i--) {
      if (onScreen.current.has(shown[i]!.id)) {
        current.markRead(shown[i]!.id);
        return;
      }
    }
  }, []);

  // One observer per list element; each commit observes the rows it added and lets go of those it removed,
  // so scrolling back through thousands of messages costs the rows added, not all of them each time.
  // It runs after every commit, not only when the ids change: the list itself mounts late (the view shows a
  // placeholder until the replica loads), and a row can be replaced under the same id (a blocked message shown).
  const observer = useRef<{ io: IntersectionObserver; root: HTMLElement; watched: Set<Element> } | null>(null);
  useEffect(() => {
    const root = list.current;
    if (observer.current && observer.current.root !== root) {
      observer.current.io.disconnect();
      observer.current = null;
    }
    if (!root || typeof IntersectionObserver === 'undefined') return;
    if (!observer.current) {
      onScreen.current = new Set();
      const io = new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            const id = (entry.target as HTMLElement).dataset.id;
            if (!id) continue;
            const seen = entry.isIntersecting && (entry.intersectionRatio >= SEEN_RATIO || entry.intersectionRect.height >= root.clientHeight * SEEN_RATIO);
            if (seen) onScreen.current.add(id);
            else onScreen.current.delete(id);
          }
          readWhatIsSeen();
        },
        { root, threshold: [0, SEEN_RATIO, 1] },
      );
      observer.current = { io, root, watched: new Set() };
    }
    watchRows(observer.current, onScreen.current);
  });
  useEffect(
    () => () => {
      observer.current?.io.disconnect();
      observer.current = null;
    },
    [],
  );

  useEffect(() => {
    window.addEventListener('focus', readWhatIsSeen);
    document.addEventListener('visibilitychange', readWhatIsSeen);
    return () => {
      window.removeEventListener('focus', readWhatIsSeen);
      document.removeEventListener('visibilitychange', readWhatIsSeen);
    };
  }, [readWhatIsSeen]);
}

/** Observes the list's rows not yet observed and lets go of those no longer in it (and forgets they were seen). */
function watchRows(current: { io: IntersectionObserver; root: HTMLElement; watched: Set<Element> }, onScreen: Set<string>): void {
  const rows = new Set<Element>(current.root.querySelectorAll('[data-testid="message"][data-id]'));
  for (const element of current.watched) {
    if (rows.has(element)) continue;
    current.io.unobserve(element);
    current.watched.delete(element);
    const id = (element as HTMLElement).dataset.id;
    if (id) onScreen.delete(id);
  }
  for (const element of rows) {
    if (current.watched.has(element)) continue;
    current.io.observe(element);
    current.watched.add(element);
  }
}
