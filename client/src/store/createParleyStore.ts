import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ConversationEntry, Session } from '../sdk/Session';
import type { ConversationSnapshot } from '../sdk/ConversationHandle';
import type { InboxSnapshot } from '../sdk/InboxHandle';
import type { ConnectionStatus, Identity, SdkError } from '../sdk/types';

/**
 * The app's state as one zustand store, derived from a Session. A thin layer:
 * the SDK computes everything; the store only copies snapshots on change so
 * React (or anything else) can subscribe with selectors.
 */
export interface ParleyState {
  me: Identity;
  connection: ConnectionStatus;
  conversations: ConversationEntry[];
  inbox: InboxSnapshot;
  activeId: string | null;
  active: ConversationSnapshot | null;
  errors: SdkError[];
  open(conversationId: string | null): void;
}

export type ParleyStore = StoreApi<ParleyState>;

export function createParleyStore(session: Session): ParleyStore & { dispose(): void } {
  const read = (activeId: string | null) => ({
    connection: session.connection(),
    conversations: session.conversationList(),
    inbox: session.inbox.snapshot(),
    active: activeId && session.hasConversation(activeId) ? session.conversation(activeId).snapshot() : null,
    errors: [...session.errors],
  });
  const store = createStore<ParleyState>()((set) => ({
    me: session.identity,
    activeId: null,
    ...read(null),
    open: (conversationId) => {
      if (conversationId) session.conversation(conversationId);
      set({ activeId: conversationId, ...read(conversationId) });
    },
  }));
  const off = session.on('change', () => store.setState(read(store.getState().activeId)));
  return Object.assign(store, { dispose: off });
}
