/**
 * The whole estimate: each machine's bare-metal cost and cloud equivalent, then totals per
 * scope (the region, each cluster, each pool) for bare metal and every cloud option, with the
 * breakeven month and the inputs that dominate. Pure; the region and the CLI feed it facts.
 */
import { type Cluster, MemberRole } from '../core/cluster.ts';
import {
  amortisationPerMonth,
  bareMetalEgressPerMonth,
  breakevenMonth,
  cheapestFit,
  cloudEgressPerMonth,
  controlPlaneFeePerMonth,
  monthly,
  ON_DEMAND,
  powerPerMonth,
  spacePerMonth,
  staffPerMonth,
  supportPerMonth,
} from './formulas.ts';
import {
  BARE_METAL_LINES,
  type BareMetalLines,
  type CostInputs,
  type MachineClass,
  type MachineFacts,
  WattsSource,
} from './types.ts';

/** A cluster as the cost model sees it: its member machines and which of them are control planes (or etcd). */
export interface ClusterFacts {
  readonly name: string;
  readonly machineIds: readonly string[];
  readonly controlPlaneIds: readonly string[];
}

/** A cluster the region runs, as the estimate counts it: its members; all but workers are control plane. */
export function memberFacts(c: Pick<Cluster, 'name' | 'members'>): ClusterFacts {
  return {
    name: c.name,
    machineIds: c.members.map((m) => m.machineId),
    controlPlaneIds: c.members.filter((m) => m.role !== MemberRole.Worker).map((m) => m.machineId),
  };
}

export interface MachineCost {
  readonly id: string;
  readonly hostname: string;
  readonly pool: string;
  /** The class that prices it; null when none matches (then it is in `unpriced`). */
  readonly class: string | null;
  readonly watts: number;
  readonly wattsSource: WattsSource;
  /** BMC power readings averaged (0 with the nominal fallback). */
  readonly readings: number;
  readonly upfront: number;
  readonly lines: Pick<BareMetalLines, 'amortisation' | 'support' | 'power' | 'space'>;
  readonly monthly: number;
  /** The cheapest fitting instance per term; null for a term no fitting instance offers. */
  readonly cloud: Readonly<Record<string, { readonly instance: string; readonly monthly: number } | null>>;
  /** Why no instance type fits (too many threads, too much memory, GPUs); null when one does. */
  readonly unfit: string | null;
}

export const OptionKind = { Vms: 'cloud-vms', Managed: 'managed-kubernetes' } as const;
export type OptionKind = (typeof OptionKind)[keyof typeof OptionKind];

export interface OptionCost {
  readonly kind: OptionKind;
  readonly term: string;
  readonly compute: number;
  readonly egress: number;
  readonly controlPlaneFee: number;
  readonly total: number;
  readonly perVcpuMonth: number | null;
  readonly perGiBMonth: number | null;
  readonly breakevenMonth: number | null;
  /** Machines of the scope this option prices (managed drops control planes). */
  readonly machines: number;
  /** Machines the option should price but cannot (no fitting instance at this term): the total leaves them out. */
  readonly missing: readonly string[];
}

export interface Share {
  readonly input: string;
  readonly monthly: number;
  /** Fraction of the bare-metal total, 0..1. */
  readonly share: number;
}

export const ScopeKind = { Region: 'region', Cluster: 'cluster', Pool: 'pool' } as const;
export type ScopeKind = (typeof ScopeKind)[keyof typeof ScopeKind];

export interface ScopeCost {
  readonly scope: ScopeKind;
  readonly name: string;
  readonly machines: number;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly bareMetal: {
    readonly lines: BareMetalLines;
    readonly total: number;
    readonly upfront: number;
    /** Total without amortisation: what the machines cost to run once bought. */
    readonly running: number;
    readonly perVcpuMonth: number | null;
    readonly perGiBMonth: number | null;
  };
  readonly options: readonly OptionCost[];
  /** Bare-metal lines by size, largest first. */
  readonly dominant: readonly Share[];
  readonly measuredWatts: number;
  readonly nominalWatts: number;
}

export interface CostEstimate {
  readonly currency: string;
  readonly priceTable: string;
  readonly terms: readonly string[];
  readonly machines: readonly MachineCost[];
  /** Machines no class prices: listed, not dropped silently; the totals leave them out. */
  readonly unpriced: readonly { readonly hostname: string; readonly reason: string }[];
  /** Machines no instance type fits at any term. */
  readonly unfit: readonly { readonly hostname: string; readonly reason: string }[];
  readonly region: ScopeCost;
  readonly clusters: readonly ScopeCost[];
  readonly pools: readonly ScopeCost[];
  readonly notes: readonly string[];
}

/** The first class whose match the machine meets, in file order. */
export function classOf(m: MachineFacts, classes: readonly MachineClass[]): MachineClass | undefined {
  return classes.find(
    (c) =>
      (c.match.pool === undefined || c.match.pool === m.pool) &&
      (c.match.tags ?? []).every((t) => m.tags.includes(t)) &&
      (c.match.hostnames === undefined || c.match.hostnames.includes(m.hostname)),
  );
}

function unfitReason(m: MachineFacts, inputs: CostInputs): string {
  const { instances } = inputs.cloud;
  const need = { threads: m.threads ?? 0, memoryGiB: m.memoryGiB ?? 0, gpus: m.gpus };
  const most = (k: 'vcpus' | 'memoryGiB' | 'gpus') => Math.max(0, ...instances.map((i) => i[k]));
  const why: string[] = [];
  if (need.threads > most('vcpus'))
    why.push(`${need.threads} threads (largest instance: ${most('vcpus')} vCPUs)`);
  if (need.memoryGiB > most('memoryGiB'))
    why.push(`${round(need.memoryGiB)} GiB memory (largest: ${most('memoryGiB')} GiB)`);
  if (need.gpus > most('gpus')) why.push(`${need.gpus} GPUs (most: ${most('gpus')})`);
  return why.length > 0
    ? `no instance type has ${why.join(', ')}`
    : `no single instance type has ${need.threads} vCPUs, ${round(need.memoryGiB)} GiB and ${need.gpus} GPUs together`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function machineCost(m: MachineFacts, c: MachineClass, inputs: CostInputs): MachineCost {
  const measured = m.measuredWatts !== null;
  const watts = m.measuredWatts ?? c.nominalWatts;
  const lines = {
    amortisation: amortisationPerMonth(c),
    support: supportPerMonth(c),
    power: powerPerMonth(watts, inputs.site),
    space: spacePerMonth(c, inputs.site),
  };
  const cloud: Record<string, { instance: string; monthly: number } | null> = {};
  let unfit: string | null = null;
  if (m.threads === null || m.memoryGiB === null) {
    unfit = 'not inventoried (no CPU or memory recorded): commission it to size a cloud equivalent';
  }
  for (const term of [ON_DEMAND, ...inputs.cloud.terms]) {
    const fit =
      unfit === null
        ? cheapestFit(
            inputs.cloud.instances,
            { threads: m.threads!, memoryGiB: m.memoryGiB!, gpus: m.gpus },
            term,
          )
        : undefined;
    cloud[term] = fit ? { instance: fit.instance.name, monthly: monthly(fit.perHour) } : null;
  }
  if (unfit === null && Object.values(cloud).every((x) => x === null)) unfit = unfitReason(m, inputs);
  return {
    id: m.id,
    hostname: m.hostname,
    pool: m.pool,
    class: c.name,
    watts,
    wattsSource: measured ? WattsSource.Measured : WattsSource.Nominal,
    readings: measured ? m.readings : 0,
    upfront: c.price,
    lines,
    monthly: lines.amortisation + lines.support + lines.power + lines.space,
    cloud,
    unfit,
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const per = (total: number, units: number) => (units > 0 ? total / units : null);

interface ScopeInput {
  readonly scope: ScopeKind;
  readonly name: string;
  readonly machines: readonly MachineCost[];
  readonly facts: ReadonlyMap<string, MachineFacts>;
  /** Control-plane machine ids within the scope (dropped by managed Kubernetes). */
  readonly controlPlanes: ReadonlySet<string>;
  /** Managed clusters whose control-plane fee the scope carries. */
  readonly managedClusters: number;
  /** The scope's share of the site-wide lines: its machines / the region's priced machines. */
  readonly siteShare: number;
}

function scopeCost(s: ScopeInput, inputs: CostInputs): ScopeCost {
  const { site, cloud } = inputs;
  const threads = (ms: readonly MachineCost[]) => sum(ms.map((m) => s.facts.get(m.id)?.threads ?? 0));
  const gib = (ms: readonly MachineCost[]) => sum(ms.map((m) => s.facts.get(m.id)?.memoryGiB ?? 0));
  const lines: BareMetalLines = {
    amortisation: sum(s.machines.map((m) => m.lines.amortisation)),
    support: sum(s.machines.map((m) => m.lines.support)),
    power: sum(s.machines.map((m) => m.lines.power)),
    space: sum(s.machines.map((m) => m.lines.space)),
    network: site.networkPerMonth * s.siteShare,
    staff: staffPerMonth(site) * s.siteShare,
    egress: bareMetalEgressPerMonth(site) * s.siteShare,
  };
  const total = sum(BARE_METAL_LINES.map((k) => lines[k]));
  const upfront = sum(s.machines.map((m) => m.upfront));
  const running = total - lines.amortisation;
  const vcpus = threads(s.machines);
  const memoryGiB = gib(s.machines);
  const options: OptionCost[] = [];
  for (const kind of [OptionKind.Vms, OptionKind.Managed]) {
    const priced =
      kind === OptionKind.Managed ? s.machines.filter((m) => !s.controlPlanes.has(m.id)) : s.machines;
    for (const term of [ON_DEMAND, ...cloud.terms]) {
      const compute = sum(priced.map((m) => m.cloud[term]?.monthly ?? 0));
      const egress = cloudEgressPerMonth(site, cloud) * s.siteShare;
      const controlPlaneFee =
        kind === OptionKind.Managed ? controlPlaneFeePerMonth(cloud, s.managedClusters) : 0;
      const optTotal = compute + egress + controlPlaneFee;
      options.push({
        kind,
        term,
        compute,
        egress,
        controlPlaneFee,
        total: optTotal,
        perVcpuMonth: per(optTotal, threads(priced)),
        perGiBMonth: per(optTotal, gib(priced)),
        breakevenMonth: breakevenMonth(upfront, running, optTotal),
        machines: priced.length,
        missing: priced.filter((m) => m.cloud[term] === null).map((m) => m.hostname),
      });
    }
  }
  const dominant = BARE_METAL_LINES.map((k) => ({
    input: k,
    monthly: lines[k],
    share: total > 0 ? lines[k] / total : 0,
  }))
    .filter((x) => x.monthly > 0)
    .sort((a, b) => b.monthly - a.monthly);
  return {
    scope: s.scope,
    name: s.name,
    machines: s.machines.length,
    vcpus,
    memoryGiB,
    bareMetal: {
      lines,
      total,
      upfront,
      running,
      perVcpuMonth: per(total, vcpus),
      perGiBMonth: per(total, memoryGiB),
    },
    options,
    dominant,
    measuredWatts: s.machines.filter((m) => m.wattsSource === WattsSource.Measured).length,
    nominalWatts: s.machines.filter((m) => m.wattsSource === WattsSource.Nominal).length,
  };
}

/**
 * Prices every machine and sums the scopes. Site-wide lines (network, staff, egress — bare
 * metal's and the cloud's) go to a cluster or pool in proportion to its share of the region's
 * priced machines. Managed Kubernetes charges one control-plane fee per cluster (the region: one
 * per cluster given, or one when none is) and drops the clusters' control-plane and etcd
 * machines from its compute; cloud VMs keep them (self-managed Kubernetes on VMs).
 */
export function estimateCost(
  inputs: CostInputs,
  machines: readonly MachineFacts[],
  clusters: readonly ClusterFacts[] = [],
): CostEstimate {
  const unpriced: { hostname: string; reason: string }[] = [];
  const costs: MachineCost[] = [];
  for (const m of machines) {
    const c = classOf(m, inputs.classes);
    if (!c) {
      unpriced.push({
        hostname: m.hostname,
        reason: `no machine class matches (pool ${m.pool}${m.tags.length ? `, tags ${m.tags.join(',')}` : ''}): add a class to spec.classes`,
      });
      continue;
    }
    costs.push(machineCost(m, c, inputs));
  }
  const facts = new Map(machines.map((m) => [m.id, m]));
  const total = costs.length;
  const cps = new Set(clusters.flatMap((c) => c.controlPlaneIds));
  const scope = (
    kind: ScopeKind,
    name: string,
    ms: MachineCost[],
    managedClusters: number,
    controlPlanes: ReadonlySet<string>,
  ) =>
    scopeCost(
      {
        scope: kind,
        name,
        machines: ms,
        facts,
        controlPlanes,
        managedClusters,
        siteShare: total > 0 ? ms.length / total : 0,
      },
      inputs,
    );
  const region = scope(ScopeKind.Region, 'region', costs, Math.max(1, clusters.length), cps);
  const clusterScopes = clusters.map((c) => {
    const ids = new Set(c.machineIds);
    return scope(
      ScopeKind.Cluster,
      c.name,
      costs.filter((m) => ids.has(m.id)),
      1,
      new Set(c.controlPlaneIds),
    );
  });
  const pools = [...new Set(costs.map((m) => m.pool))].sort().map((p) =>
    scope(
      ScopeKind.Pool,
      p,
      costs.filter((m) => m.pool === p),
      0,
      cps,
    ),
  );
  const notes: string[] = [];
  const nominal = costs.filter((m) => m.wattsSource === WattsSource.Nominal);
  if (nominal.length > 0)
    notes.push(
      `${nominal.length} of ${costs.length} machines have no BMC power readings in the window: their power uses the class's nominal watts`,
    );
  if (clusters.length === 0)
    notes.push(
      'no cluster given: managed Kubernetes is priced as one cluster and drops no control-plane machines',
    );
  return {
    currency: inputs.site.currency,
    priceTable: inputs.cloud.name,
    terms: [ON_DEMAND, ...inputs.cloud.terms],
    machines: costs,
    unpriced,
    unfit: costs.filter((m) => m.unfit !== null).map((m) => ({ hostname: m.hostname, reason: m.unfit! })),
    region,
    clusters: clusterScopes,
    pools,
    notes,
  };
}
