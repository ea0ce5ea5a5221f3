import type { Problem } from '../spec/problems.ts';
import { type PlannedNode, Role, type WhatIfRow } from './types.ts';

/**
 * A rack is identified by its zone and its name: sites often reuse rack names (`r01`) in every
 * zone, and losing r01 in one zone does not take down r01 in another.
 */
export function rackKey(n: { zone: string; rack: string }): string {
  return `${n.zone}/${n.rack}`;
}

/** The failure-domain key of a node for `domain`. */
export function domainKey(n: { zone: string; rack: string }, domain: 'zone' | 'rack'): string {
  return domain === 'zone' ? n.zone : rackKey(n);
}

/** Display names per rack key: the bare rack name where it is unique across zones, else zone/rack. */
function rackNames(nodes: readonly { zone: string; rack: string }[]): Map<string, string> {
  const zonesOf = new Map<string, Set<string>>();
  for (const n of nodes) zonesOf.set(n.rack, (zonesOf.get(n.rack) ?? new Set()).add(n.zone));
  const names = new Map<string, string>();
  for (const n of nodes) names.set(rackKey(n), (zonesOf.get(n.rack)?.size ?? 0) > 1 ? rackKey(n) : n.rack);
  return names;
}

export function quorumOf(members: number): number {
  return Math.floor(members / 2) + 1;
}

function tally(nodes: readonly PlannedNode[], key: (n: PlannedNode) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of nodes) m.set(key(n), (m.get(key(n)) ?? 0) + 1);
  return m;
}

/** For every zone and every rack holding a node: what survives its loss. Zones first, then racks, by name. */
export function whatIf(nodes: readonly PlannedNode[], etcd: readonly PlannedNode[]): WhatIfRow[] {
  const rows: WhatIfRow[] = [];
  const cps = nodes.filter((n) => n.role === Role.ControlPlane);
  const workers = nodes.filter((n) => n.role === Role.Worker);
  const etcdOnly = nodes.filter((n) => n.role === Role.Etcd);
  const racks = rackNames(nodes);
  for (const domain of ['zone', 'rack'] as const) {
    const keys = [...new Set(nodes.map((n) => domainKey(n, domain)))].sort();
    // Each list's nodes per domain, counted in one pass (not a pass per list and domain: 39
    // domains × 1,000 nodes for the bench's cluster).
    const counts = new Map<readonly PlannedNode[], Map<string, number>>();
    for (const list of [etcd, cps, workers, etcdOnly]) {
      const byKey = new Map<string, number>();
      for (const n of list) {
        const k = domainKey(n, domain);
        byKey.set(k, (byKey.get(k) ?? 0) + 1);
      }
      counts.set(list, byKey);
    }
    for (const key of keys) {
      const name = domain === 'zone' ? key : racks.get(key)!;
      const lost = (list: readonly PlannedNode[]) => counts.get(list)?.get(key) ?? 0;
      const etcdLost = lost(etcd);
      const etcdSurvivors = etcd.length - etcdLost;
      const quorum = etcdSurvivors >= quorumOf(etcd.length);
      const cpLost = lost(cps);
      const workersLost = lost(workers);
      rows.push({
        domain,
        name,
        lost: { controlPlanes: cpLost, etcd: lost(etcdOnly), workers: workersLost },
        etcdSurvivors,
        etcdMembers: etcd.length,
        quorum,
        apiAvailable: quorum && cps.length - cpLost > 0,
        workersSurviving: workers.length - workersLost,
        workersTotal: workers.length,
      });
    }
  }
  return rows;
}

/**
 * Refuses placements where losing one tolerated failure domain loses etcd quorum, saying which
 * domain, what is left, and what would fix it. `available` lists the domains that hold at least
 * one machine the etcd role could have used, so the advice is concrete.
 */
export function checkQuorum(
  etcd: readonly PlannedNode[],
  tolerate: readonly ('zone' | 'rack')[],
  available: { zone: readonly string[]; rack: readonly string[] },
  selectorPath: string,
): Problem[] {
  const problems: Problem[] = [];
  const n = etcd.length;
  if (n < 3) return problems; // a single member tolerates nothing; the plan warns instead
  const q = quorumOf(n);
  for (const domain of tolerate) {
    const names = rackNames(etcd);
    const counts = new Map(
      [...tally(etcd, (m) => domainKey(m, domain)).entries()].map(([k, c]) => [
        domain === 'zone' ? k : names.get(k)!,
        c,
      ]),
    );
    const spreadText = [...counts.entries()]
      .sort()
      .map(([d, c]) => `${d}: ${c}`)
      .join(', ');
    for (const [name, c] of [...counts.entries()].sort()) {
      if (n - c >= q) continue;
      const needed = Math.ceil(n / (n - q)); // domains needed so none holds more than n - q members
      problems.push({
        path: selectorPath,
        message:
          `losing ${domain} "${name}" leaves ${n - c} of ${n} etcd members, below quorum ${q} ` +
          `(members per ${domain}: ${spreadText}). Spread needs at least ${needed} ${domain}s with ` +
          `matching ready machines; candidates exist in ${available[domain].length} ` +
          `(${available[domain].join(', ') || 'none'}). Add ready machines in other ${domain}s, widen ` +
          `${selectorPath}, or remove "${domain}" from spec.placement.tolerate to accept the risk.`,
      });
      break;
    }
  }
  return problems;
}
