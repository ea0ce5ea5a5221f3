/**
 * Spares for the `replace` rung: the region's ready machines, each with its failure domain
 * (`zone/rack`, the planner's rackKey); core/remediation.ts's pickSpare chooses one of the
 * failed node's rack, else of its zone.
 */
import { rackKey } from '../../cluster/plan/quorum.ts';
import type { Machine } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';

export async function regionSpares(store: Store): Promise<{ machineId: string; domain: string }[]> {
  const out: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ state: ['ready'] }, 1000, cursor);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out.map((m) => ({ machineId: m.id, domain: rackKey(m) }));
}
