import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { Session } from '../sdk/Session';
import type { ParleyState, ParleyStore } from '../store/createParleyStore';

interface ParleyContextValue {
  session: Session;
  store: ParleyStore;
}

const ParleyContext = createContext<ParleyContextValue | null>(null);

export function ParleyProvider({ session, store, children }: ParleyContextValue & { children: ReactNode }) {
  return <ParleyContext.Provider value={{ session, store }}>{children}</ParleyContext.Provider>;
}

function useParleyContext(): ParleyContextValue {
  const value = useContext(ParleyContext);
  if (!value) throw new Error('Parley hooks need a <ParleyProvider>');
  return value;
}

/** The SDK session, for operations (send, react, mark read...). */
export const useSession = (): Session => useParleyContext().session;

/** A slice of the store; re-renders only when the slice changes. */
export function useParley<T>(selector: (state: ParleyState) => T): T {
  return useStore(useParleyContext().store, selector);
}
