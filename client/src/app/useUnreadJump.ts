import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

/**
 * The "Jump to new messages" button of a conversation: shown while the unread
 * divider is out of view, or when messages arrived below while the reader was
 * scrolled up. Going jumps to the divider if it is out of view, else to the end.
 */
export function useUnreadJump(list: RefObject<HTMLOListElement | null>, dividerId: string | null, count: number, stuck: RefObject<boolean>) {
  const divider = useRef<HTMLLIElement | null>(null);
  const [dividerHidden, setDividerHidden] = useState(false);
  const [arrivedBelow, setArrivedBelow] = useState(false);
  const lastCount = useRef(count);

  const measure = useCallback(() => {
    const box = list.current?.getBoundingClientRect();
    const line = divider.current?.getBoundingClientRect();
    setDividerHidden(Boolean(box && line && (line.bottom < box.top || line.top > box.bottom)));
    if (stuck.current) setArrivedBelow(false);
  }, [list, stuck]);

  useEffect(() => {
    if (count > lastCount.current && !stuck.current) setArrivedBelow(true);
    lastCount.current = count;
    // After the layout effect that keeps the list at the bottom.
    const frame = requestAnimationFrame(measure);
    return () => cancelAnimationFrame(frame);
  }, [count, dividerId, measure, stuck]);

  const dividerRef = useCallback((element: HTMLLIElement | null) => {
    divider.current = element;
  }, []);

  const go = () => {
    const element = list.current;
    if (!element) return;
    if (dividerHidden && divider.current && !arrivedBelow) divider.current.scrollIntoView({ block: 'start' });
    else element.scrollTop = element.scrollHeight;
    setArrivedBelow(false);
    setDividerHidden(false);
  };

  return { show: dividerHidden || arrivedBelow, dividerRef, onScroll: measure, go };
}
