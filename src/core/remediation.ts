/**
 * Remediation of a cluster's unhealthy nodes, as pure decisions (like Cluster API's
 * MachineHealthCheck, done right for metal): which nodes are unhealthy and why, whether to act
 * at all (the `maxUnhealthy` guard), which nodes to start on now (control planes one at a
 * time, never one whose fence would cost etcd its quorum), and for one node the next rung of
 * its escalation ladder from what was tried.
 *
 * The ladder always starts by **fencing**: the node is powered off through its BMC, and the
 * power-off is confirmed, before its Node object is deleted. Deleting the Node is what lets its
 * pods (StatefulSet pods, RWO volumes) start elsewhere, so it must never happen while the node
 * may still be running them: a node that cannot be fenced halts its remediation.
 *
 *   not ready:            fence → delete-node → power-on (wait Ready) → reprovision → replace
 *   BMC critical, broken: fence → delete-node → replace
 *
 * A BMC health alarm or an operator's "broken" says the hardware is at fault: powering it on
 * again or reinstalling it would bring back the same fault, so those go to a spare.
 */
import { invalid } from './errors.ts';

export const RemediationStep = {
  /** Power off through the BMC and confirm it is off. */
  Fence: 'fence',
  /** Delete the Node object, so its pods are rescheduled at once. */
  DeleteNode: 'delete-node',
  /** Power on and wait for the node to register Ready again. */
  PowerOn: 'power-on',
  /** Redeploy the machine's OS and join it again. */
  Reprovision: 'reprovision',
  /** Replace the machine with a spare ready machine of the same failure domain. */
  Replace: 'replace',
} as const;
export type RemediationStep = (typeof RemediationStep)[keyof typeof RemediationStep];

export const UnhealthyCause = {
  NotReady: 'not-ready',
  BmcCritical: 'bmc-critical',
  Broken: 'broken',
} as const;
export type UnhealthyCause = (typeof UnhealthyCause)[keyof typeof UnhealthyCause];

const S = RemediationStep;
const LADDERS: Readonly<Record<UnhealthyCause, readonly RemediationStep[]>> = {
  'not-ready': [S.Fence, S.DeleteNode, S.PowerOn, S.Reprovision, S.Replace],
  'bmc-critical': [S.Fence, S.DeleteNode, S.Replace],
  broken: [S.Fence, S.DeleteNode, S.Replace],
};

/** The rungs tried, in order, for the cause. */
export function ladderOf(cause: UnhealthyCause): readonly RemediationStep[] {
  return LADDERS[cause];
}

export interface RemediationPolicy {
  /** How long a Node may be NotReady/Unknown before it counts as unhealthy. @default 300 s */
  readonly unhealthyAfterSeconds: number;
  /**
   * Remediate nothing when more nodes than this are unhealthy at once (likely a network
   * partition, not dead machines): a count, or a percentage of the cluster's nodes (`"40%"`).
   */
  readonly maxUnhealthy: number | string;
}

export const DEFAULT_REMEDIATION_POLICY: RemediationPolicy = {
  unhealthyAfterSeconds: 300,
  maxUnhealthy: '40%',
};

/** A node as the remediator sees it: its Node's Ready condition, its machine and BMC. */
export interface NodeHealth {
  readonly node: string;
  readonly machineId: string;
  readonly role: 'control-plane' | 'worker';
  /** The machine's failure domain (`zone/rack`), where a spare must come from. */
  readonly domain: string;
  /** The Node's Ready condition status; null when there is no Node object (deleted, not joined). */
  readonly ready: 'True' | 'False' | 'Unknown' | null;
  /** When the Ready condition last changed (ISO), null without a Node. */
  readonly readySince: string | null;
  /** The BMC's health rollup (Redfish Status.Health), null when not known. */
  readonly bmcHealth: 'OK' | 'Warning' | 'Critical' | null;
  /** The machine is marked broken by an operator. */
  readonly machineBroken: boolean;
}

/** Why a node is unhealthy, or null when it is not (yet). */
export function unhealthyCause(
  n: NodeHealth,
  policy: RemediationPolicy,
  now: Date,
): { cause: UnhealthyCause; reason: string } | null {
  if (n.machineBroken) return { cause: UnhealthyCause.Broken, reason: 'the machine is marked broken' };
  if (n.bmcHealth === 'Critical')
    return { cause: UnhealthyCause.BmcCritical, reason: 'the BMC reports health Critical' };
  if (n.ready === 'True' || n.ready === null || !n.readySince) return null;
  const seconds = Math.floor((now.getTime() - Date.parse(n.readySince)) / 1000);
  if (seconds <= policy.unhealthyAfterSeconds) return null;
  return {
    cause: UnhealthyCause.NotReady,
    reason: `Node Ready=${n.ready} for ${seconds} s (more than ${policy.unhealthyAfterSeconds} s)`,
  };
}

/** The `maxUnhealthy` limit as a count of nodes, for a cluster of `total` nodes. */
export function maxUnhealthyCount(policy: RemediationPolicy, total: number): number {
  const v = policy.maxUnhealthy;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0)
      throw invalid('maxUnhealthy', `${v} is not a count of nodes (0 or more)`);
    return v;
  }
  const m = /^(\d{1,3})%$/.exec(v);
  if (!m || Number(m[1]) > 100)
    throw invalid('maxUnhealthy', `"${v}" is neither a count of nodes nor a percentage such as "40%"`);
  return Math.floor((total * Number(m[1])) / 100);
}

export interface RemediationPlan {
  /** Set when the guard stops all remediation: nothing is started. */
  readonly halted: string | null;
  /** Nodes to start remediating now, with the cause and the reason for the timeline. */
  readonly start: readonly { node: string; cause: UnhealthyCause; reason: string }[];
  /** Unhealthy nodes left for later, with why. */
  readonly waiting: readonly { node: string; reason: string }[];
}

/**
 * Which unhealthy nodes to start on now. `inProgress` are the nodes whose remediation is
 * running: they count as unhealthy for the guard and are not started again. Control planes go
 * one at a time (one being remediated holds back the others: each fence takes an etcd
 * member away); workers are all started.
 */
export function planRemediation(input: {
  readonly nodes: readonly NodeHealth[];
  readonly policy: RemediationPolicy;
  readonly now: Date;
  readonly inProgress: readonly string[];
  /**
   * Stacked etcd: the members and the nodes whose member answers healthy. A control plane whose
   * own member still answers (a dead kubelet leaves static pods running) is fenced only if the
   * healthy members left keep a quorum; omitted when etcd is not known (or external).
   */
  readonly etcd?: { readonly members: number; readonly healthyOn: readonly string[] };
}): RemediationPlan {
  const { nodes, policy, now, inProgress, etcd } = input;
  const unhealthy = nodes.flatMap((n) => {
    const c = unhealthyCause(n, policy, now);
    return c ? [{ n, ...c }] : [];
  });
  // The guard counts every node not Ready now, past the timeout or not: in a partition the
  // nodes' Ready flips seconds apart, and counting only those past the timeout fenced the first
  // before the second counted (the test bed, 2026-12-03).
  const suspect = nodes.filter((n) => n.ready === 'False' || n.ready === 'Unknown').map((n) => n.node);
  const counted = new Set([...unhealthy.map((u) => u.n.node), ...inProgress, ...suspect]);
  const limit = maxUnhealthyCount(policy, nodes.length);
  if (counted.size > limit)
    return {
      halted: `${counted.size} of ${nodes.length} nodes are unhealthy, more than maxUnhealthy ${policy.maxUnhealthy} (${limit}): likely a partition, not dead machines; remediating none`,
      start: [],
      waiting: unhealthy.map((u) => ({ node: u.n.node, reason: 'maxUnhealthy exceeded' })),
    };
  const start: { node: string; cause: UnhealthyCause; reason: string }[] = [];
  const waiting: { node: string; reason: string }[] = [];
  // The control plane being remediated (running, or started by this plan): the others wait for it.
  let controlPlaneBusy =
    nodes.find((n) => n.role === 'control-plane' && inProgress.includes(n.node))?.node ?? null;
  // Control planes first in name order, so the choice is the same on every evaluation.
  const ordered = [...unhealthy].sort(
    (a, b) => rank(a.n.role) - rank(b.n.role) || a.n.node.localeCompare(b.n.node),
  );
  for (const u of ordered) {
    if (inProgress.includes(u.n.node)) continue;
    if (u.n.role === 'control-plane') {
      if (controlPlaneBusy) {
        waiting.push({
          node: u.n.node,
          reason: `waiting: control plane ${controlPlaneBusy} is being remediated (one control plane at a time, each fence takes an etcd member away)`,
        });
        continue;
      }
      if (etcd?.healthyOn.includes(u.n.node)) {
        const left = etcd.healthyOn.length - 1;
        if (left <= etcd.members / 2) {
          waiting.push({
            node: u.n.node,
            reason: `its etcd member still answers, and fencing it would leave ${left} of ${etcd.members} members healthy: no quorum; bring another member back first`,
          });
          continue;
        }
      }
      controlPlaneBusy = u.n.node;
    }
    start.push({ node: u.n.node, cause: u.cause, reason: u.reason });
  }
  return { halted: null, start, waiting };
}

const rank = (role: NodeHealth['role']) => (role === 'control-plane' ? 0 : 1);

/** How a rung ended: `ok` (fenced, deleted, Ready again…) or `failed` (with why). */
export interface RungResult {
  readonly step: RemediationStep;
  readonly ok: boolean;
  readonly detail?: string;
}

export type NextRung =
  | { readonly kind: 'run'; readonly step: RemediationStep; readonly spare?: string }
  | { readonly kind: 'recovered'; readonly by: RemediationStep }
  | { readonly kind: 'halt'; readonly reason: string };

/**
 * The next rung for one node, from its cause and the rungs already run (in order). Fence and
 * delete-node must succeed to go on (a failed fence halts: the Node is never deleted while the
 * machine may run); power-on, reprovision and replace each end the remediation when the node
 * is Ready again, and a failed one escalates to the next. Replace takes the first spare of the
 * node's failure domain; with none, it halts saying so.
 */
export function nextRung(input: {
  readonly cause: UnhealthyCause;
  readonly done: readonly RungResult[];
  readonly node: Pick<NodeHealth, 'node' | 'domain'>;
  readonly spares: readonly { readonly machineId: string; readonly domain: string }[];
}): NextRung {
  const ladder = LADDERS[input.cause];
  for (const [i, r] of input.done.entries()) {
    if (ladder[i] !== r.step)
      return {
        kind: 'halt',
        reason: `rung ${i + 1} was ${r.step}, the ladder says ${ladder[i] ?? 'nothing'}`,
      };
    if (r.ok && (r.step === S.PowerOn || r.step === S.Reprovision || r.step === S.Replace))
      return { kind: 'recovered', by: r.step };
    if (!r.ok && (r.step === S.Fence || r.step === S.DeleteNode))
      return {
        kind: 'halt',
        reason:
          r.step === S.Fence
            ? `${input.node.node} could not be fenced (${r.detail ?? 'power-off not confirmed'}): its Node is kept, as it may still be running its pods`
            : `the Node ${input.node.node} could not be deleted (${r.detail ?? 'no reason'})`,
      };
  }
  const step = ladder[input.done.length];
  // Every rung ran after a confirmed fence: the node is left powered off (never rescheduled
  // onto again by this remediation), and the halt says so with the last rung's reason.
  if (!step)
    return {
      kind: 'halt',
      reason: `every rung failed for ${input.node.node} (last: ${input.done.at(-1)?.detail ?? 'no detail'}); it stays fenced (powered off)`,
    };
  if (step !== S.Replace) return { kind: 'run', step };
  const pick = pickSpare(input.node, input.spares);
  if ('halt' in pick) return { kind: 'halt', reason: pick.halt };
  return { kind: 'run', step, spare: pick.machineId };
}

/**
 * The spare that replaces a node: a ready machine of its rack (`zone/rack`, the planner's
 * rackKey), else of its zone (a rack is the smaller failure domain; the zone still keeps the
 * cluster's spread over zones), first by machine id among equals so every pass picks the same
 * one. None in the zone → a halt reason naming the domain and what was there.
 */
export function pickSpare(
  node: Pick<NodeHealth, 'node' | 'domain'>,
  spares: readonly { readonly machineId: string; readonly domain: string }[],
): { machineId: string; domain: string } | { halt: string } {
  const zone = zoneOf(node.domain);
  const sorted = [...spares].sort((a, b) => (a.machineId < b.machineId ? -1 : 1));
  const pick = sorted.find((s) => s.domain === node.domain) ?? sorted.find((s) => zoneOf(s.domain) === zone);
  if (pick) return { machineId: pick.machineId, domain: pick.domain };
  return {
    halt: `no spare ready machine in ${node.node}'s failure domain ${node.domain} nor in its zone ${zone} (${spares.length} ready machine(s) elsewhere${spares.length ? `: ${[...new Set(spares.map((s) => s.domain))].sort().join(', ')}` : ''})`,
  };
}

/** The zone of a `zone/rack` domain. */
const zoneOf = (domain: string): string => domain.split('/')[0];
