/** Machines grouped by zone, then rack, in name order, with per-rack health counts. */
import type { Machine } from '../api/types.ts';
import { isUnhealthy } from '../machines/labels.ts';

export interface RackGroup {
  rack: string;
  machines: Machine[];
  unhealthy: number;
}
export interface ZoneGroup {
  zone: string;
  racks: RackGroup[];
  count: number;
}

export function layoutRacks(machines: Machine[]): ZoneGroup[] {
  const zones = new Map<string, Map<string, Machine[]>>();
  for (const m of machines) {
    const racks = zones.get(m.zone) ?? new Map<string, Machine[]>();
    zones.set(m.zone, racks);
    const list = racks.get(m.rack) ?? [];
    racks.set(m.rack, list);
    list.push(m);
  }
  const byName = new Intl.Collator(undefined, { numeric: true }).compare;
  return [...zones.entries()]
    .sort(([a], [b]) => byName(a, b))
    .map(([zone, racks]) => {
      const rs = [...racks.entries()]
        .sort(([a], [b]) => byName(a, b))
        .map(([rack, ms]) => ({
          rack,
          machines: ms.sort((a, b) => byName(a.hostname, b.hostname)),
          unhealthy: ms.filter((m) => isUnhealthy(m.state)).length,
        }));
      return { zone, racks: rs, count: rs.reduce((s, r) => s + r.machines.length, 0) };
    });
}
