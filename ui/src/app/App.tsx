import { useCallback, useEffect, useState } from 'react';
import { ApiClient, ApiError } from '../api/client.ts';
import type { Token } from '../api/types.ts';
import { SignIn } from '../auth/SignIn.tsx';
import { type Session, SessionProvider } from '../auth/session.tsx';
import { clearToken, loadToken, saveToken } from '../auth/token-store.ts';
import { Clusters } from '../clusters/Clusters.tsx';
import { Cost } from '../cost/Cost.tsx';
import { MachineDetails } from '../machine/MachineDetails.tsx';
import { MachineList } from '../machines/views/MachineList.tsx';
import { Racks } from '../racks/Racks.tsx';
import { Subnets } from '../subnets/Subnets.tsx';
import { match, navigate, useLocation } from './router.ts';
import { Shell } from './Shell.tsx';

function Routes() {
  const { path } = useLocation();
  useEffect(() => {
    if (path === '/' || path === '') navigate('/machines', { replace: true });
  }, [path]);
  const machine = match('/machines/:id', path);
  if (machine) return <MachineDetails id={machine.id} />;
  if (path.startsWith('/machines') || path === '/') return <MachineList />;
  if (path.startsWith('/racks')) return <Racks />;
  if (path.startsWith('/subnets')) return <Subnets />;
  if (path.startsWith('/clusters')) return <Clusters />;
  if (path.startsWith('/cost')) return <Cost />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. Try <a href="/machines">Machines</a>.
      </p>
    </div>
  );
}

export function App({ base = '' }: { base?: string }) {
  const [session, setSession] = useState<{ client: ApiClient; me: Token } | null>(null);
  const [checking, setChecking] = useState(() => loadToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  // A saved token: check it is still good before showing anything.
  useEffect(() => {
    const saved = loadToken();
    if (!saved) return;
    const client = new ApiClient(saved, base);
    client
      .whoami()
      .then((me) => setSession({ client, me }))
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) {
          clearToken();
          setNotice('Your saved token was refused (revoked or expired). Sign in again.');
        } else setNotice(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setChecking(false));
  }, [base]);

  const signOut = useCallback(() => {
    clearToken();
    setSession(null);
    setNotice(null);
  }, []);

  if (checking) return <p className="app-loading">Loading…</p>;
  if (!session) {
    return (
      <SignIn
        base={base}
        notice={notice}
        onSignedIn={(client, me, remember) => {
          saveToken(client.token, remember);
          setSession({ client, me });
        }}
      />
    );
  }
  const value: Session = { ...session, signOut };
  return (
    <SessionProvider session={value}>
      <Shell>
        <Routes />
      </Shell>
    </SessionProvider>
  );
}
