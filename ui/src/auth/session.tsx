/**
 * The signed-in session: an API client with the token, and who the token is. Views ask
 * `useCan('operator')` before showing an action; the server enforces roles anyway.
 */
import { createContext, type ReactNode, useContext } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { Role, Token } from '../api/types.ts';

export interface Session {
  client: ApiClient;
  me: Token;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function useCan(need: Role): boolean {
  return roleAllows(useSession().me.role, need);
}
