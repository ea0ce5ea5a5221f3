import { type FormEvent, useState } from 'react';
import { ApiClient, ApiError } from '../api/client.ts';
import type { Token } from '../api/types.ts';

interface Props {
  onSignedIn: (client: ApiClient, me: Token, remember: boolean) => void;
  /** Why the operator is here again (an expired token), shown above the form. */
  notice?: string | null;
  base?: string;
}

export function SignIn({ onSignedIn, notice, base = '' }: Props) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const secret = token.trim();
    if (!secret) {
      setError('Paste an API token first.');
      return;
    }
    setBusy(true);
    setError(null);
    const client = new ApiClient(secret, base);
    try {
      onSignedIn(client, await client.whoami(), remember);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span className="brand-mark" aria-hidden="true" /> Sign in to Ingot
        </h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          placeholder="ingot_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby="token-help"
          aria-invalid={error ? true : undefined}
        />
        <p id="token-help" className="help">
          The first admin token is in the region's data dir (<code>.ingot/admin.token</code>). Create more
          with <code>ingot token create NAME --role viewer|operator|admin</code>.
        </p>
        <label className="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />{' '}
          Remember on this browser
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
