/** Client-side sorting of the loaded machines (`?sort=memory` / `?sort=-memory`). */
import type { Machine } from '../api/types.ts';
import { STATE_ORDER } from './labels.ts';

export type SortKey = 'hostname' | 'state' | 'power' | 'location' | 'pool' | 'cpu' | 'memory' | 'disk';
export interface SortSpec {
  key: SortKey;
  desc: boolean;
}

const KEYS: Record<SortKey, (m: Machine) => string | number> = {
  hostname: (m) => m.hostname,
  state: (m) => STATE_ORDER.indexOf(m.state),
  power: (m) => m.powerState,
  location: (m) => `${m.zone}\u0000${m.rack}\u0000${m.hostname}`,
  pool: (m) => m.pool,
  cpu: (m) => m.cpu?.cores ?? -1,
  memory: (m) => m.memoryBytes ?? -1,
  disk: (m) => m.disks.reduce((s, d) => s + d.sizeBytes, 0),
};

export function parseSort(v: string | null): SortSpec | null {
  if (!v) return null;
  const desc = v.startsWith('-');
  const key = (desc ? v.slice(1) : v) as SortKey;
  return key in KEYS ? { key, desc } : null;
}

export const formatSort = (s: SortSpec | null) => (s ? `${s.desc ? '-' : ''}${s.key}` : '');

export function sortMachines(machines: Machine[], s: SortSpec | null): Machine[] {
  if (!s) return machines;
  const f = KEYS[s.key];
  const dir = s.desc ? -1 : 1;
  const collator = new Intl.Collator(undefined, { numeric: true });
  return machines.slice().sort((a, b) => {
    const x = f(a);
    const y = f(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
    return c * dir;
  });
}
