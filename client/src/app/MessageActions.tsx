import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';

const QUICK_REACTIONS = ['👍', '❤️', '😂'];

interface Props {
  mine: boolean;
  /** For the button's name: "Actions for alice's message at 10:42". */
  label: string;
  onReply(): void;
  onEdit(): void;
  onDelete(): void;
  onReact(emoji: string): void;
  /** Others' messages: report to the moderators (issue 14). */
  onReport?(): void;
}

interface Item {
  key: string;
  label: string;
  text: string;
  run(): void;
}

/**
 * One "More actions" button per message opening a menu (the WAI-ARIA menu
 * button pattern): Enter, Space or ArrowDown open it on the first item,
 * ArrowUp on the last; arrows, Home and End move between items; Escape and Tab
 * close it and focus returns to the button. Delete asks first.
 */
export function MessageActions({ mine, label, onReply, onEdit, onDelete, onReact, onReport }: Props) {
  const [open, setOpen] = useState<false | 'first' | 'last'>(false);
  const [confirming, setConfirming] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const menuId = useId();

  const items: Item[] = [
    ...QUICK_REACTIONS.map((emoji) => ({ key: emoji, label: `React ${emoji}`, text: emoji, run: () => onReact(emoji) })),
    { key: 'reply', label: 'Reply', text: 'Reply', run: onReply },
    ...(mine
      ? [
          { key: 'edit', label: 'Edit', text: 'Edit', run: onEdit },
          { key: 'delete', label: 'Delete…', text: 'Delete…', run: () => setConfirming(true) },
        ]
      : onReport
        ? [{ key: 'report', label: 'Report…', text: 'Report…', run: onReport }]
        : []),
  ];

  useEffect(() => {
    if (!open) return;
    const entries = menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]');
    entries?.[open === 'first' ? 0 : entries.length - 1]?.focus();
    const outside = (event: PointerEvent) => {
      if (!menu.current?.contains(event.target as Node) && !button.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const onMenuKey = (event: KeyboardEvent<HTMLUListElement>) => {
    const entries = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      entries[(to + entries.length) % entries.length]?.focus();
    };
    if (event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(entries.length - 1);
    else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'Tab') setOpen(false);
  };
  const onButtonKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(event.key === 'ArrowDown' ? 'first' : 'last');
    }
  };

  if (confirming) {
    return (
      <div className="confirm" role="group" aria-label="Confirm delete">
        <span>Delete this message for everyone?</span>
        <button
          type="button"
          className="danger"
          onClick={() => {
            setConfirming(false);
            onDelete();
          }}
        >
          Delete
        </button>
        <button type="button" onClick={() => setConfirming(false)} autoFocus>
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div className="message-actions">
      <button
        type="button"
        ref={button}
        className="more"
        aria-haspopup="menu"
        aria-expanded={open !== false}
        aria-controls={open ? menuId : undefined}
        aria-label={label}
        onClick={() => (open ? setOpen(false) : setOpen('first'))}
        onKeyDown={onButtonKey}
      >
        ⋯
      </button>
      {open && (
        <ul className="menu" role="menu" id={menuId} aria-label="Message actions" ref={menu} onKeyDown={onMenuKey}>
          {items.map((item) => (
            <li key={item.key} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                aria-label={item.label}
                onClick={() => {
                  close();
                  item.run();
                }}
              >
                {item.text}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
