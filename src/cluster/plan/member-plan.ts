/**
 * The plan of a cluster's members as they are: the newest job's plan holds the nodes a finished
 * change left, but an aborted scale (engine/cluster/scale-operation.ts) gives back part of what
 * its plan says — added nodes released, removed ones kept. So the plan a later change starts
 * from is the newest plan's nodes that are still members, then each member it lacks as an
 * older plan placed it (its address and failure domain kept).
 */
import type { Plan, PlannedNode } from './types.ts';

/** `plans` newest first (at least one); `members` the cluster's hostnames now. */
export function memberPlan(plans: readonly Plan[], members: readonly string[]): Plan {
  const [newest] = plans;
  const want = new Set(members);
  const nodes: PlannedNode[] = newest.nodes.filter((n) => want.has(n.hostname));
  if (nodes.length === newest.nodes.length && nodes.length === want.size) return newest;
  const have = new Set(nodes.map((n) => n.hostname));
  for (const h of members) {
    if (have.has(h)) continue;
    const older = plans.find((p) => p.nodes.some((n) => n.hostname === h));
    const node = older?.nodes.find((n) => n.hostname === h);
    if (node) {
      nodes.push(node);
      have.add(h);
    }
  }
  return { ...newest, nodes };
}
