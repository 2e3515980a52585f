import { useEffect, useState } from 'react';
import { useSession } from '../react';
import { OutgoingAttachments, type HeldProgress } from '../sdk/OutgoingAttachments';
import type { Session } from '../sdk/Session';

const bySession = new WeakMap<Session, OutgoingAttachments>();

/** The session's queue of messages held for their uploads (one per session, started on first use). */
export function useOutgoing(): OutgoingAttachments {
  const session = useSession();
  let outgoing = bySession.get(session);
  if (!outgoing) bySession.set(session, (outgoing = new OutgoingAttachments(session)));
  return outgoing;
}

/** The held messages of one conversation, with their upload progress. */
export function useHeld(conversationId: string): HeldProgress[] {
  const outgoing = useOutgoing();
  const [held, setHeld] = useState(() => outgoing.held(conversationId));
  useEffect(() => {
    setHeld(outgoing.held(conversationId));
    return outgoing.on('change', () => setHeld(outgoing.held(conversationId)));
  }, [outgoing, conversationId]);
  return held;
}
