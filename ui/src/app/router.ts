/**
 * A tiny history router: the console has four routes, which do not justify a dependency.
 * Views read the location with useLocation() and change it with navigate(); filters live in
 * the query string so a filtered table can be bookmarked and shared.
 */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = () => window.location.pathname + window.location.search;

export interface Location {
  path: string;
  search: URLSearchParams;
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, () => '/');
  const u = new URL(href, 'http://x');
  return { path: u.pathname, search: u.searchParams };
}

/** Goes to `to`; `replace` for changes that should not add a Back step (typing in search). */
export function navigate(to: string, o: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (o.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
}

/** Matches `/machines/:id` style patterns; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
