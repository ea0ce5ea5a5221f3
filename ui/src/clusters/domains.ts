/** How the plan reads by failure domain: nodes by zone then rack, and the what-if rows in words. */
import type { ClusterPlan, PlannedNode, WhatIfRow } from './api.ts';

export interface RackGroup {
  rack: string;
  nodes: PlannedNode[];
}
export interface ZoneGroup {
  zone: string;
  racks: RackGroup[];
  count: number;
}

const ROLE_ORDER: Record<PlannedNode['role'], number> = { 'control-plane': 0, etcd: 1, worker: 2 };
/** Natural order, as the Racks view sorts: r2 before r10. */
const byName = new Intl.Collator(undefined, { numeric: true }).compare;

/** Zones by name, racks by name within each zone, nodes by role (control planes first) then hostname. */
export function groupByDomain(nodes: readonly PlannedNode[]): ZoneGroup[] {
  const zones = new Map<string, Map<string, PlannedNode[]>>();
  for (const n of nodes) {
    const racks = zones.get(n.zone) ?? new Map<string, PlannedNode[]>();
    zones.set(n.zone, racks);
    racks.set(n.rack, [...(racks.get(n.rack) ?? []), n]);
  }
  return [...zones.entries()]
    .sort(([a], [b]) => byName(a, b))
    .map(([zone, racks]) => {
      const list = [...racks.entries()]
        .sort(([a], [b]) => byName(a, b))
        .map(([rack, ns]) => ({
          rack,
          nodes: [...ns].sort(
            (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || byName(a.hostname, b.hostname),
          ),
        }));
      return { zone, racks: list, count: list.reduce((s, r) => s + r.nodes.length, 0) };
    });
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** "1 control plane, 2 workers", or "nothing". */
export function lostText(r: WhatIfRow): string {
  const parts = [
    r.lost.controlPlanes && plural(r.lost.controlPlanes, 'control plane'),
    r.lost.etcd && plural(r.lost.etcd, 'etcd node'),
    r.lost.workers && plural(r.lost.workers, 'worker'),
  ].filter(Boolean);
  return parts.join(', ') || 'nothing';
}

export const ROLE_LABEL: Record<PlannedNode['role'], string> = {
  'control-plane': 'Control plane',
  etcd: 'etcd',
  worker: 'Worker',
};

export interface Tolerance {
  domain: 'zone' | 'rack';
  /** Domains of this kind that hold a node. */
  total: number;
  /** Names of domains whose loss loses etcd quorum or the API. */
  fatal: string[];
}

/** Per domain kind: does the cluster survive losing any one of them, and if not, which ones hurt. */
export function tolerance(plan: Pick<ClusterPlan, 'whatIf'>): Tolerance[] {
  return (['zone', 'rack'] as const).map((domain) => {
    const rows = plan.whatIf.filter((r) => r.domain === domain);
    return {
      domain,
      total: rows.length,
      fatal: rows.filter((r) => !r.quorum || !r.apiAvailable).map((r) => r.name),
    };
  });
}
