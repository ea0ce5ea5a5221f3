/**
 * Cluster planning over HTTP: `POST /clusters/plan` plans a Cluster file onto the region's
 * ready machines and subnets, as `ingot cluster plan --region` does, and writes nothing.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { planCluster } from '../../cluster/index.ts';
import type { Inventory } from '../../cluster/inventory.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { IngotError, isIngotError } from '../../core/errors.ts';
import type { Machine } from '../../core/machine.ts';
import type { Store } from '../../store/store.ts';
import { CLUSTER_FILE_MAX, errorResponses, PlanClusterBody, PlanClusterResult } from '../schemas/index.ts';

const PAGE = 1000;

/** Where a refusal came from: the Cluster file itself, or planning it onto these machines. */
export const PlanStage = { ClusterFile: 'cluster-file', Plan: 'plan' } as const;
export type PlanStage = (typeof PlanStage)[keyof typeof PlanStage];

/** Every ready machine (all pages) and every subnet: what the planner may use. */
export async function regionInventory(store: Store): Promise<Inventory> {
  const machines: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({ state: ['ready'] }, PAGE, cursor);
    machines.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return { machines, subnets: await store.listSubnets() };
}

/** Runs `f`, tagging an IngotError's details with the stage so clients can say which went wrong. */
function at<T>(stage: PlanStage, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!isIngotError(e)) throw e;
    throw new IngotError(e.code, e.message, { details: { ...e.details, stage }, cause: e });
  }
}

export function clusterRoutes(store: Store): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/clusters/plan', {
      config: { role: 'viewer' },
      // JSON escaping (newlines, quotes) can double the text; the schema caps the text itself.
      bodyLimit: 2 * CLUSTER_FILE_MAX + 1024,
      schema: {
        tags: ['clusters'],
        summary: 'Plan a Cluster file onto the ready machines and subnets of this region (writes nothing)',
        description:
          'Returns the plan (nodes by failure domain, etcd members and quorum, the what-if table) and its text form. ' +
          'A bad Cluster file, or a plan that cannot be made (too few matching machines, etcd quorum lost with one ' +
          'zone or rack, address problems), is 400 INGOT_VALIDATION with every problem in `details.problems` ' +
          '(`{path, message}`) and `details.stage` (`cluster-file` or `plan`).',
        body: PlanClusterBody,
        response: { 200: PlanClusterResult, ...errorResponses },
      },
      handler: async (req) => {
        const spec = at(PlanStage.ClusterFile, () => parseClusterFile(req.body.cluster, 'Cluster file'));
        const inventory = await regionInventory(store);
        const { plan, text } = at(PlanStage.Plan, () => planCluster(spec, inventory));
        return { plan, text };
      },
    });
  };
}
