/**
 * Spares for the `replace` rung: the region's ready machines that the failed node's role could
 * have been planned onto (the Cluster file's selectors, through the planner's `mismatch`), each
 * with its failure domain (`zone/rack`, the planner's rackKey); core/remediation.ts's pickSpare
 * then chooses one of the failed node's rack, else of its zone.
 */
import { mismatch } from '../../cluster/plan/select.ts';
import { rackKey } from '../../cluster/plan/quorum.ts';
import type { ClusterSpec, MachineSelector } from '../../cluster/spec/types.ts';
import { MachineState } from '../../core/lifecycle.ts';
import type { Machine } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';

/**
 * The ready machines that may replace `failed` (a control plane or a worker): those matching a
 * selector of its role that the failed machine itself matches (its worker pool, when the
 * cluster has several), or any selector of the role when it matches none (selectors edited
 * since the plan).
 */
export function sparesFor(
  spec: ClusterSpec,
  failed: Machine,
  role: 'control-plane' | 'worker',
  ready: readonly Machine[],
): { machineId: string; domain: string }[] {
  const selectors: MachineSelector[] =
    role === 'control-plane' ? [spec.spec.controlPlane.machines] : spec.spec.workers.map((w) => w.machines);
  const asReady = { ...failed, state: MachineState.Ready };
  const own = selectors.filter((s) => mismatch(asReady, s) === null);
  const use = own.length > 0 ? own : selectors;
  return ready
    .filter((m) => m.id !== failed.id && use.some((s) => mismatch(m, s) === null))
    .map((m) => ({ machineId: m.id, domain: rackKey(m) }));
}

/** The region's ready machines (all pages). */
export async function readyMachines(store: Store): Promise<Machine[]> {
  const out: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ state: ['ready'] }, 1000, cursor);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}
