/**
 * Machine list filters: one shape, read from and written to the URL (`?state=ready,new&q=node-1`)
 * so a filtered view survives a reload and can be shared. The same shape becomes the API
 * query, and `matches` decides whether a live-updated machine belongs in the current list.
 */
import type { Machine, MachineQuery, MachineState } from '../api/types.ts';
import { STATES } from './labels.ts';

export interface Filters {
  state: MachineState[];
  q: string;
  zone: string;
  rack: string;
  pool: string;
  tag: string[];
}

export const EMPTY: Filters = { state: [], q: '', zone: '', rack: '', pool: '', tag: [] };

const list = (v: string | null) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

export function fromSearch(p: URLSearchParams): Filters {
  return {
    state: list(p.get('state')).filter((s): s is MachineState => s in STATES),
    q: p.get('q') ?? '',
    zone: p.get('zone') ?? '',
    rack: p.get('rack') ?? '',
    pool: p.get('pool') ?? '',
    tag: list(p.get('tag')),
  };
}

export function toSearch(f: Filters): string {
  const p = new URLSearchParams();
  if (f.state.length) p.set('state', f.state.join(','));
  if (f.q) p.set('q', f.q);
  if (f.zone) p.set('zone', f.zone);
  if (f.rack) p.set('rack', f.rack);
  if (f.pool) p.set('pool', f.pool);
  if (f.tag.length) p.set('tag', f.tag.join(','));
  // URLSearchParams writes "," as %2C; keep lists readable in the address bar.
  const s = p.toString().replace(/%2C/g, ',');
  return s ? `?${s}` : '';
}

export function toQuery(f: Filters): MachineQuery {
  return {
    state: f.state.length ? f.state.join(',') : undefined,
    q: f.q.trim() || undefined,
    zone: f.zone || undefined,
    rack: f.rack || undefined,
    pool: f.pool || undefined,
    tag: f.tag.length ? f.tag.join(',') : undefined,
  };
}

export const isEmpty = (f: Filters) => toSearch(f) === '';

/** Client-side twin of the server's filter, for machines that arrive through live events. */
export function matches(m: Machine, f: Filters): boolean {
  if (f.state.length && !f.state.includes(m.state)) return false;
  if (f.zone && m.zone !== f.zone) return false;
  if (f.rack && m.rack !== f.rack) return false;
  if (f.pool && m.pool !== f.pool) return false;
  if (f.tag.some((t) => !m.tags.includes(t))) return false;
  const q = f.q.trim().toLowerCase();
  if (q && !m.hostname.includes(q) && m.id !== q && !m.nics.some((n) => n.mac === q)) return false;
  return true;
}
