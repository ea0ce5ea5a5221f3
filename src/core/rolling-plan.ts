/**
 * The order of a rolling upgrade or reconfigure (pure): an etcd snapshot first, then the
 * control planes one at a time — the init node first (`kubeadm upgrade apply`), the others
 * after it (`kubeadm upgrade node`) —, then the workers in batches of `maxUnavailable`, each
 * batch cordoned, drained, upgraded, uncordoned and Ready before the next. Nodes already done
 * (a roll resumed after a crash) are left out; a batch never mixes failure domains, so a
 * workload spread over domains loses at most what it loses when one domain fails.
 */
import { invalid } from './errors.ts';

export interface RollNode {
  readonly node: string;
  readonly role: 'init' | 'control-plane' | 'worker';
  /** Failure domain (`zone/rack`). */
  readonly domain: string;
}

export type RollPhase =
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'control-plane'; readonly node: string; readonly first: boolean }
  | { readonly kind: 'workers'; readonly nodes: readonly string[] };

/** `maxUnavailable` (a count or a percentage of the workers, at least 1) as a count. */
export function batchSize(maxUnavailable: number | string, workers: number): number {
  if (typeof maxUnavailable === 'number') {
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1)
      throw invalid('maxUnavailable', `${maxUnavailable} is not a count of nodes (1 or more)`);
    return maxUnavailable;
  }
  const m = /^(\d{1,3})%$/.exec(maxUnavailable);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 100)
    throw invalid(
      'maxUnavailable',
      `"${maxUnavailable}" is neither a count of nodes nor a percentage such as "25%"`,
    );
  return Math.max(1, Math.floor((workers * Number(m[1])) / 100));
}

export function rollingPlan(input: {
  readonly nodes: readonly RollNode[];
  readonly maxUnavailable: number | string;
  /** Nodes already rolled (resuming): not planned again. */
  readonly done?: readonly string[];
  /** Whether the snapshot was taken already. */
  readonly snapshotTaken?: boolean;
}): RollPhase[] {
  const done = new Set(input.done ?? []);
  const inits = input.nodes.filter((n) => n.role === 'init');
  // A roll of workers only (an OS replacement of workers) has no control plane at all, and an
  // OS replacement of some control planes may leave the init node out; never two init nodes.
  if (inits.length > 1)
    throw invalid('nodes', `a roll has at most one init control plane, found ${inits.length}`);
  const names = input.nodes.map((n) => n.node);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw invalid('nodes', `${dup} is listed twice`);

  const phases: RollPhase[] = input.snapshotTaken ? [] : [{ kind: 'snapshot' }];
  const byName = (a: RollNode, b: RollNode) => a.node.localeCompare(b.node);
  const cps = [...inits, ...input.nodes.filter((n) => n.role === 'control-plane').sort(byName)];
  for (const n of cps)
    if (!done.has(n.node)) phases.push({ kind: 'control-plane', node: n.node, first: n.role === 'init' });

  const workers = input.nodes.filter((n) => n.role === 'worker');
  const size = batchSize(input.maxUnavailable, workers.length);
  const domains = [...new Set(workers.map((w) => w.domain))].sort();
  for (const d of domains) {
    const left = workers.filter((w) => w.domain === d && !done.has(w.node)).sort(byName);
    for (let i = 0; i < left.length; i += size)
      phases.push({ kind: 'workers', nodes: left.slice(i, i + size).map((w) => w.node) });
  }
  return phases;
}
