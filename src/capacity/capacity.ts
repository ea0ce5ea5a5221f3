/**
 * Capacity of a planned cluster, per worker pool: allocatable (the machines the plan puts in
 * the pool) against requested (a RequestsSource), what is left after losing each zone and each
 * rack (the planner's failure domains: `domainKey`, racks as zone/rack), spare ready machines
 * per domain that match the pool's selector, and a recommendation in words. Pure.
 */
import { gpuCount, type InventoryMachine } from '../cluster/inventory.ts';
import { domainKey } from '../cluster/plan/quorum.ts';
import { mismatch } from '../cluster/plan/select.ts';
import { type Plan, Role, type WhatIfRow } from '../cluster/plan/types.ts';
import type { ClusterSpec } from '../cluster/spec/types.ts';
import type { PoolRequests, Resources } from './requests.ts';

export type Domain = 'zone' | 'rack';

export interface LossRow {
  readonly domain: Domain;
  readonly name: string;
  readonly nodesLost: number;
  readonly remaining: Resources;
  /** remaining − requested; negative where the survivors cannot hold today's requests. */
  readonly headroom: Resources;
  readonly holds: boolean;
}

export interface SpareRow {
  readonly domain: Domain;
  readonly name: string;
  /** Ready machines outside the plan that the pool's selector accepts. */
  readonly ready: number;
}

export interface PoolCapacity {
  readonly pool: string;
  readonly nodes: number;
  readonly allocatable: Resources;
  readonly requested: Resources;
  readonly losses: readonly LossRow[];
  /** Per domain kind, the loss that leaves the least: the N+1 answer. */
  readonly worst: { readonly zone: LossRow | null; readonly rack: LossRow | null };
  readonly spares: readonly SpareRow[];
  readonly recommendation: string;
}

export interface ClusterCapacity {
  readonly cluster: string;
  readonly requestsKind: string;
  readonly requestsBasis: string;
  readonly tolerate: readonly Domain[];
  readonly pools: readonly PoolCapacity[];
  /** The plan's own what-if rows (etcd quorum, API, workers) beside the pools' answers. */
  readonly whatIf: readonly WhatIfRow[];
  readonly recommendations: readonly string[];
}

const ZERO: Resources = { cpu: 0, memoryGiB: 0 };
const GiB = 2 ** 30;

/** A machine's allocatable: its hardware threads (cores without a thread count) and memory. */
export function machineResources(m: InventoryMachine): Resources {
  return { cpu: m.cpu?.threads ?? m.cpu?.cores ?? 0, memoryGiB: (m.memoryBytes ?? 0) / GiB };
}

function add(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memoryGiB: a.memoryGiB + b.memoryGiB };
}
function sub(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu - b.cpu, memoryGiB: a.memoryGiB - b.memoryGiB };
}
const fmt = (n: number) => String(Math.round(n * 10) / 10);
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

interface Member {
  readonly zone: string;
  readonly rack: string;
  readonly r: Resources;
}

function lossRows(members: readonly Member[], requested: Resources, domain: Domain): LossRow[] {
  const total = members.reduce((a, m) => add(a, m.r), ZERO);
  const keys = [...new Set(members.map((m) => domainKey(m, domain)))].sort();
  return keys.map((key) => {
    const lost = members.filter((m) => domainKey(m, domain) === key);
    const remaining = sub(
      total,
      lost.reduce((a, m) => add(a, m.r), ZERO),
    );
    const headroom = sub(remaining, requested);
    return {
      domain,
      name: key,
      nodesLost: lost.length,
      remaining,
      headroom,
      holds: headroom.cpu >= 0 && headroom.memoryGiB >= 0,
    };
  });
}

/** The loss leaving the least: lowest CPU headroom, then memory. */
function worstOf(rows: readonly LossRow[]): LossRow | null {
  return (
    [...rows].sort(
      (a, b) => a.headroom.cpu - b.headroom.cpu || a.headroom.memoryGiB - b.headroom.memoryGiB,
    )[0] ?? null
  );
}

/**
 * How many machines shaped like `shape`, and in which domains, make every single-domain loss
 * hold: one at a time into the domain holding the least, until every loss holds (at most 1,000).
 */
function additions(
  members: readonly Member[],
  requested: Resources,
  domain: Domain,
  shape: Member,
): Map<string, number> {
  const added = new Map<string, number>();
  const list = [...members];
  const domains = [...new Set(members.map((m) => domainKey(m, domain)))];
  if (domains.length < 2 || shape.r.cpu + shape.r.memoryGiB === 0) return added;
  for (let i = 0; i < 1000; i++) {
    if (lossRows(list, requested, domain).every((r) => r.holds)) return added;
    const load = (d: string) =>
      list.filter((m) => domainKey(m, domain) === d).reduce((a, m) => a + m.r.cpu, 0);
    const target = [...domains].sort((a, b) => load(a) - load(b) || (a < b ? -1 : 1))[0];
    const [zone, rack] = domain === 'zone' ? [target, shape.rack] : target.split('/');
    list.push({ zone, rack, r: shape.r });
    added.set(target, (added.get(target) ?? 0) + 1);
  }
  return added;
}

/** The first machine of the pool's commonest shape (CPU and memory): what "machines like X" means. */
function commonestShape(hosts: readonly InventoryMachine[]): InventoryMachine | undefined {
  const key = (m: InventoryMachine) => JSON.stringify(machineResources(m));
  const counts = new Map<string, number>();
  for (const m of hosts) counts.set(key(m), (counts.get(key(m)) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return hosts.find((m) => key(m) === top);
}

function recommend(
  pool: string,
  members: readonly Member[],
  requested: Resources,
  worst: LossRow | null,
  spares: readonly SpareRow[],
  shapeHost: InventoryMachine | undefined,
): string {
  if (!worst) return `pool ${pool}: no nodes planned`;
  if (worst.holds)
    return `pool ${pool}: survives losing ${worst.domain} ${worst.name} (the largest loss) with ${fmt(worst.headroom.cpu)} CPU and ${fmt(worst.headroom.memoryGiB)} GiB to spare`;
  const domains = new Set(members.map((m) => domainKey(m, worst.domain)));
  if (domains.size < 2)
    return `pool ${pool}: every node is in ${worst.domain} ${worst.name}; losing it loses the pool. Spread the pool over at least two ${worst.domain}s (add matching machines elsewhere, or widen the selector's ${worst.domain}s)`;
  const shape = shapeHost ? machineResources(shapeHost) : ZERO;
  const m0 = members[0];
  const extra = additions(members, requested, worst.domain, { zone: m0.zone, rack: m0.rack, r: shape });
  const like = shapeHost
    ? `like ${shapeHost.hostname} (${fmt(shape.cpu)} CPU, ${fmt(shape.memoryGiB)} GiB${gpuCount(shapeHost) ? `, ${gpuCount(shapeHost)} GPUs` : ''})`
    : 'of this pool';
  const where = [...extra.entries()].sort().map(([d, n]) => {
    const spare = spares.find((s) => s.domain === worst.domain && s.name === d)?.ready ?? 0;
    return `${plural(n, 'machine')} ${like} to ${worst.domain} ${d}${spare > 0 ? ` (${spare} matching ready there now)` : ''}`;
  });
  return `pool ${pool}: losing ${worst.domain} ${worst.name} leaves ${fmt(worst.remaining.cpu)} CPU / ${fmt(worst.remaining.memoryGiB)} GiB for ${fmt(requested.cpu)} / ${fmt(requested.memoryGiB)} requested. Add ${where.join(' and ') || 'machines'} to survive losing any one ${worst.domain}`;
}

/**
 * The capacity answer for one planned cluster. `machines` is the region's inventory (any
 * state): the plan's machines give allocatable; ready machines outside the plan are spares.
 */
export function clusterCapacity(
  spec: ClusterSpec,
  plan: Plan,
  machines: readonly InventoryMachine[],
  requests: PoolRequests,
): ClusterCapacity {
  const byId = new Map(machines.map((m) => [m.id, m]));
  const planned = new Set(plan.nodes.map((n) => n.machineId));
  const tolerate = spec.spec.placement.tolerate;
  const pools = spec.spec.workers.map((w): PoolCapacity => {
    const nodes = plan.nodes.filter((n) => n.role === Role.Worker && n.pool === w.name);
    const hosts = nodes
      .map((n) => byId.get(n.machineId))
      .filter((m): m is InventoryMachine => m !== undefined);
    const members: Member[] = hosts.map((m) => ({ zone: m.zone, rack: m.rack, r: machineResources(m) }));
    const allocatable = members.reduce((a, m) => add(a, m.r), ZERO);
    const requested = requests.pools.get(w.name) ?? ZERO;
    const zone = lossRows(members, requested, 'zone');
    const rack = lossRows(members, requested, 'rack');
    const spareMachines = machines.filter((m) => !planned.has(m.id) && mismatch(m, w.machines) === null);
    const spares: SpareRow[] = (['zone', 'rack'] as const).flatMap((domain) =>
      [...new Set(spareMachines.map((m) => domainKey(m, domain)))].sort().map((name) => ({
        domain,
        name,
        ready: spareMachines.filter((m) => domainKey(m, domain) === name).length,
      })),
    );
    const worst = { zone: worstOf(zone), rack: worstOf(rack) };
    // The tolerated domain kinds decide the recommendation: zones first when tolerated.
    const kind: Domain = tolerate.includes('zone') || !tolerate.includes('rack') ? 'zone' : 'rack';
    const shapeHost = commonestShape(hosts);
    return {
      pool: w.name,
      nodes: members.length,
      allocatable,
      requested,
      losses: [...zone, ...rack],
      worst,
      spares,
      recommendation: recommend(w.name, members, requested, worst[kind], spares, shapeHost),
    };
  });
  const recommendations = pools.map((p) => p.recommendation);
  for (const r of plan.whatIf.filter((x) => tolerate.includes(x.domain) && !x.quorum))
    recommendations.push(
      `losing ${r.domain} ${r.name} loses etcd quorum (${r.etcdSurvivors}/${r.etcdMembers}): spread the etcd members`,
    );
  return {
    cluster: plan.cluster,
    requestsKind: requests.kind,
    requestsBasis: requests.basis,
    tolerate,
    pools,
    whatIf: plan.whatIf,
    recommendations,
  };
}
