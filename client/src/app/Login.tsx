import { useState, type FormEvent } from 'react';
import { login } from './auth';
import type { SessionToken } from '../sdk/types';

const DEMO_USERS = ['alice', 'bob', 'carol'];

/** Dev login: pick a demo user or type any id. */
export function Login({ onLogin }: { onLogin: (login: SessionToken) => void }) {
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (id: string) => {
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(id));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (userId.trim()) void signIn(userId.trim());
  };

  return (
    <main className="login">
      <h1>Parley</h1>
      <p>Development sign-in</p>
      <ul className="login-users" aria-label="Demo users">
        {DEMO_USERS.map((id) => (
          <li key={id}>
            <button type="button" disabled={busy} onClick={() => void signIn(id)}>
              Sign in as {id}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <label htmlFor="login-user">User id</label>
        <input id="login-user" value={userId} pattern="[A-Za-z0-9_.\-]{1,64}" onChange={(e) => setUserId(e.target.value)} autoComplete="username" />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
    </main>
  );
}
