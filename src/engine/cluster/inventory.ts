/**
 * What a cluster may be planned onto: the region's ready machines (all pages) and its subnets,
 * with every address already in use — other clusters' node addresses and static assignments —
 * reserved, so the planner never hands a new node an address another machine holds.
 */
import type { Inventory } from '../../cluster/inventory.ts';
import type { Machine } from '../../core/machine.ts';
import { cidrContains, parseCidr, parseIpv4, type Subnet } from '../../core/subnet.ts';
import type { Store } from '../../store/store.ts';

const PAGE = 1000;

export async function regionInventory(store: Store): Promise<Inventory> {
  const machines: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ state: ['ready'] }, PAGE, cursor);
    machines.push(...page.items);
    cursor = page.next;
  } while (cursor);
  const inUse = new Set<string>();
  for (const c of await store.listClusters()) for (const m of c.members) inUse.add(m.address.split('/')[0]);
  const subnets: Subnet[] = [];
  for (const s of await store.listSubnets()) {
    for (const a of await store.listIps(s.id)) if (a.kind === 'static') inUse.add(a.ip);
    subnets.push(withReserved(s, inUse));
  }
  return { machines, subnets };
}

/** The subnet with each in-use address of it as a one-address reserved range. */
function withReserved(s: Subnet, inUse: ReadonlySet<string>): Subnet {
  const c = parseCidr(s.cidr);
  const mine = [...inUse].filter((ip) => {
    const n = parseIpv4(ip);
    return n !== null && cidrContains(c, n);
  });
  if (mine.length === 0) return s;
  return {
    ...s,
    ranges: [
      ...s.ranges,
      ...mine.sort().map((ip) => ({ kind: 'reserved' as const, start: ip, end: ip, comment: 'in use' })),
    ],
  };
}
