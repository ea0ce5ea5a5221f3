/**
 * The rules of scaling a running cluster (docs/day2.md "Scale"): how many workers a request
 * adds or removes, which workers go (the ones named, else the newest first), and the control
 * plane's limits — an odd count, never below the etcd quorum of the members it has now.
 * Pure: no I/O; the engine (src/engine/cluster/scale.ts) applies the answer.
 */
import { ErrorCode, IngotError, invalid } from './errors.ts';

/** A member as the rules see it: its hostname, role and join order (higher: joined later). */
export interface ScaleMember {
  readonly hostname: string;
  readonly role: string;
  readonly order: number;
}

export interface ScaleRequest {
  /** The workers wanted in the end. */
  readonly workers?: number;
  /** Workers to remove by hostname (the scale-in's choice instead of newest first). */
  readonly remove?: readonly string[];
  /** The control planes wanted in the end (odd, never below the etcd quorum of the members now). */
  readonly controlPlanes?: number;
}

export interface ScaleDecision {
  /** Workers to add from ready machines. */
  readonly add: number;
  /** Workers to remove, by hostname, in the order they go. */
  readonly remove: readonly string[];
  /** Control planes to add from ready machines (joined one at a time, etcd member added). */
  readonly addControlPlanes?: number;
  /** Control planes to remove, by hostname, newest first (etcd member removed one at a time). */
  readonly removeControlPlanes?: readonly string[];
}

/** Largest worker count a scale may ask for (the planner's own bound on a cluster). */
export const MAX_WORKERS = 5000;

/** etcd's quorum of `members`: a majority. */
export const etcdQuorum = (members: number): number => Math.floor(members / 2) + 1;

/**
 * Why a control-plane count of `target` is refused for a cluster with `current` control planes
 * (stacked etcd: each is an etcd member), or null when the count itself is allowed.
 */
export function controlPlaneProblem(current: number, target: number): string | null {
  if (!Number.isInteger(target) || target < 1) return 'must be a whole number of at least 1';
  if (target % 2 === 0)
    return `${target} is even: etcd's quorum of ${target} members (${etcdQuorum(target)}) tolerates no more failures than ${target - 1}; use an odd count`;
  if (target < etcdQuorum(current))
    return `${target} is below the etcd quorum of the ${current} members now (${etcdQuorum(current)}): removing that many at once would lose quorum; scale down at most to ${etcdQuorum(current) % 2 === 0 ? etcdQuorum(current) + 1 : etcdQuorum(current)}`;
  return null;
}

/**
 * Decides a scale: workers added, or removed (the named ones, else the newest first); or control
 * planes added, or removed newest first (never the init node while another is left, never
 * below the quorum rules). A control-plane change is a scale of its own (workers left as they
 * are). Throws INGOT_VALIDATION naming the field for a request that cannot be met; changes nothing.
 */
export function decideScale(members: readonly ScaleMember[], req: ScaleRequest): ScaleDecision {
  const workers = members.filter((m) => m.role === 'worker');
  const controlPlanes = members.filter((m) => m.role === 'init' || m.role === 'control-plane');
  if (req.controlPlanes !== undefined) {
    const problem = controlPlaneProblem(controlPlanes.length, req.controlPlanes);
    if (problem) throw invalid('controlPlanes', problem, { current: controlPlanes.length });
    if (req.controlPlanes !== controlPlanes.length) {
      const workersChange =
        (req.remove?.length ?? 0) > 0 || (req.workers !== undefined && req.workers !== workers.length);
      if (workersChange)
        throw new IngotError(
          ErrorCode.Validation,
          `controlPlanes: the control planes (${controlPlanes.length} → ${req.controlPlanes}) change in a scale of their own, one member at a time; scale the workers before or after it`,
          { details: { field: 'controlPlanes', current: controlPlanes.length } },
        );
      if (req.controlPlanes > controlPlanes.length)
        return {
          add: 0,
          remove: [],
          addControlPlanes: req.controlPlanes - controlPlanes.length,
          removeControlPlanes: [],
        };
      // Newest first; the init node (kubeadm init ran there) last of all.
      const newestFirst = [...controlPlanes].sort(
        (a, b) =>
          Number(a.role === 'init') - Number(b.role === 'init') ||
          b.order - a.order ||
          (a.hostname < b.hostname ? 1 : -1),
      );
      return {
        add: 0,
        remove: [],
        addControlPlanes: 0,
        removeControlPlanes: newestFirst
          .slice(0, controlPlanes.length - req.controlPlanes)
          .map((m) => m.hostname),
      };
    }
  }
  const named = [...(req.remove ?? [])];
  for (const [i, h] of named.entries()) {
    const m = members.find((x) => x.hostname === h);
    if (!m)
      throw invalid(
        `remove[${i}]`,
        `${h} is not a member of the cluster; members: ${members.map((x) => x.hostname).join(', ')}`,
      );
    if (m.role !== 'worker')
      throw invalid(`remove[${i}]`, `${h} is a ${m.role} node: only workers are removed by a scale`);
    if (named.indexOf(h) !== i) throw invalid(`remove[${i}]`, `${h} is named twice`);
  }
  let target = req.workers;
  if (target === undefined) {
    if (named.length === 0 && req.controlPlanes === undefined)
      throw invalid('workers', 'say how many workers the cluster should have, or which to remove');
    target = workers.length - named.length;
  }
  if (!Number.isInteger(target) || target < 0 || target > MAX_WORKERS)
    throw invalid('workers', `must be a whole number from 0 to ${MAX_WORKERS}`);
  if (named.length > 0 && workers.length - named.length !== target)
    throw invalid(
      'remove',
      `removing ${named.length} of ${workers.length} workers leaves ${workers.length - named.length}, not ${target}; name ${Math.max(0, workers.length - target)} or leave workers out`,
    );
  if (target >= workers.length) return { add: target - workers.length, remove: [] };
  if (named.length > 0) return { add: 0, remove: named };
  const newestFirst = [...workers].sort((a, b) => b.order - a.order || (a.hostname < b.hostname ? 1 : -1));
  return {
    add: 0,
    remove: newestFirst.slice(0, workers.length - target).map((m) => m.hostname),
  };
}
