import { useState, type FormEvent } from 'react';
import { login } from './auth';
import { normalizeUserId, USER_ID_HINT, USER_ID_PATTERN } from './userIds';
import type { SessionToken } from '../sdk/types';

const DEMO_USERS = ['alice', 'bob', 'carol'];

/**
 * Dev login: pick a demo user or type any id. Ids are not case-sensitive for
 * people: what is typed is lowercased, so "Alice" and "alice" are one account.
 */
export function Login({ onLogin, notice = null }: { onLogin: (login: SessionToken) => void; notice?: string | null }) {
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
    const id = normalizeUserId(userId);
    if (id) void signIn(id);
  };

  return (
    <main className="login">
      <h1>Parley</h1>
      <p>Development sign-in</p>
      {notice && (
        <p role="status" className="notice" data-testid="signed-out">
          {notice}
        </p>
      )}
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
        <input
          id="login-user"
          value={userId}
          pattern={USER_ID_PATTERN}
          onChange={(e) => setUserId(e.target.value)}
          autoComplete="username"
          autoCapitalize="none"
          aria-describedby="login-user-hint"
          dir="auto"
        />
        <p id="login-user-hint" className="hint">
          {USER_ID_HINT}
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
    </main>
  );
}
