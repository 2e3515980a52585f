import { useEffect, useState } from 'react';
import { ParleyProvider, createParleyStore, type ParleyStore } from '../react';
import type { Session } from '../sdk/Session';
import type { SessionToken } from '../sdk/types';
import { announceSignOut, forgetLogin, onSignOutElsewhere, sessionFor, storedLogin } from './auth';
import { Login } from './Login';
import { disablePush } from './pushDevice';
import { Shell } from './Shell';

export function App() {
  const [login, setLogin] = useState<SessionToken | null>(storedLogin);
  const [signedOut, setSignedOut] = useState<string | null>(null);
  if (!login) return <Login onLogin={setLogin} notice={signedOut} />;
  return (
    <SignedIn
      key={login.userId}
      login={login}
      onSignOut={() => {
        forgetLogin();
        setSignedOut(`Signed out. ${login.userId}'s messages and notifications were erased from this device.`);
        setLogin(null);
      }}
    />
  );
}

function SignedIn({ login, onSignOut }: { login: SessionToken; onSignOut: () => void }) {
  const [value, setValue] = useState<{ session: Session; store: ParleyStore & { dispose(): void } } | null>(null);
  // Made inside the effect so each mount owns its session (StrictMode mounts twice).
  useEffect(() => {
    const session = sessionFor(login);
    const store = createParleyStore(session);
    setValue({ session, store });
    void session.start();
    // Tests and the console can reach the session.
    (window as unknown as { parley?: Session }).parley = session;
    return () => {
      store.dispose();
      void session.destroy();
      setValue(null);
    };
  }, [login]);
  useEffect(() => {
    if (!value) return;
    return onSignOutElsewhere(login.userId, () => void value.session.signOut().then(onSignOut));
  }, [value, login.userId, onSignOut]);
  if (!value) return null;
  const { session, store } = value;
  return (
    <ParleyProvider session={session} store={store}>
      <Shell
        onSignOut={async () => {
          // Erased before the login shows: the next person at this device finds nothing of this user.
          announceSignOut(login.userId);
          // While the token still works: the server stops pushing to this device, then the browser drops it.
          await disablePush(session.api).catch((error: unknown) => console.warn('push: not unsubscribed', error));
          await session.signOut();
          onSignOut();
        }}
      />
    </ParleyProvider>
  );
}
