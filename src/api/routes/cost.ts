/**
 * `POST /cost`: the cost estimate of this region's machines (docs/cost.md), from a CostModel
 * (default: every documented default), its price table, and the machines' BMC power readings
 * averaged over a window. `POST /capacity`: a Cluster file planned onto the ready machines, with
 * allocatable vs requested per pool and what survives losing each zone and rack. `GET /capacity?cluster=`:
 * the same for a cluster the region runs, its pods' requests read from its Kubernetes API (the
 * Cluster file's minimums when the API does not answer, said so). All write nothing.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { costCsv } from '../../cost/csv.ts';
import { clusterCapacity } from '../../capacity/capacity.ts';
import { kubeRequests, planRequests, type RequestsSource } from '../../capacity/requests.ts';
import { memberPlan } from '../../capacity/running.ts';
import type { KubePort } from '../../kube/port.ts';
import { buildPlan } from '../../cluster/plan/plan.ts';
import { Role } from '../../cluster/plan/types.ts';
import { gpuCount } from '../../cluster/inventory.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { MachineState } from '../../core/lifecycle.ts';
import type { Machine } from '../../core/machine.ts';
import { type ClusterFacts, estimateCost, memberFacts } from '../../cost/estimate.ts';
import { ClusterState } from '../../core/cluster-lifecycle.ts';
import {
  COST_FILE_MAX,
  defaultCostModel,
  namesShippedTable,
  parseCostModel,
  parsePriceTable,
  resolveInputs,
  shippedPriceTable,
} from '../../cost/model-file.ts';
import type { MachineFacts } from '../../cost/types.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import {
  CapacityBody,
  CapacityQuery,
  CLUSTER_FILE_MAX,
  ClusterCapacityT,
  CostBody,
  CostEstimateT,
  errorResponses,
} from '../schemas/index.ts';
import { regionInventory } from '../../engine/cluster/inventory.ts';

const PAGE = 1000;
const DAY_MS = 86_400_000;

/** Every machine but the retired: a bought machine costs whether it is used or not. */
async function costedMachines(store: Store): Promise<Machine[]> {
  const out: Machine[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listMachines({}, PAGE, cursor);
    out.push(...page.items.filter((m) => m.state !== MachineState.Retired));
    cursor = page.next;
  } while (cursor);
  return out;
}

/** The cost model's facts of each machine, with its mean BMC power since `since` (ms). */
export async function regionCostFacts(store: Store, since: number): Promise<MachineFacts[]> {
  const [machines, power] = await Promise.all([costedMachines(store), store.averagePower(since)]);
  return machines.map((m) => {
    const p = power.get(m.id);
    return {
      id: m.id,
      hostname: m.hostname,
      pool: m.pool,
      tags: m.tags,
      threads: m.cpu ? (m.cpu.threads ?? m.cpu.cores) : null,
      memoryGiB: m.memoryBytes === null ? null : m.memoryBytes / 2 ** 30,
      gpus: gpuCount(m),
      measuredWatts: p ? p.watts : null,
      readings: p ? p.readings : 0,
    };
  });
}

export function costRoutes(
  store: Store,
  o: { now?: () => number; requests?: RequestsSource; kube?: KubePort | null } = {},
): FastifyPluginAsyncTypebox {
  const now = o.now ?? Date.now;
  const requests = o.requests ?? planRequests;
  /** The estimate of a `POST /cost` body (JSON and CSV alike). */
  const estimate = async (body: Static<typeof CostBody>) => {
    const model = body.model ? parseCostModel(body.model, 'model') : defaultCostModel();
    let table: ReturnType<typeof shippedPriceTable>;
    if (body.priceTable) table = parsePriceTable(body.priceTable, 'priceTable');
    else if (namesShippedTable(model)) table = shippedPriceTable(model.spec.cloud.priceTable);
    else
      throw new IngotError(
        ErrorCode.Validation,
        `priceTable: the model names the file "${model.spec.cloud.priceTable}", which the region cannot read; send its text as priceTable (ingot cost --model does)`,
        { details: { field: 'priceTable' } },
      );
    const inputs = resolveInputs(model, table);
    const facts = await regionCostFacts(store, now() - body.windowDays * DAY_MS);
    // The clusters this region runs, by their members; then the Cluster files given, planned
    // onto the ready machines (a file named like a running cluster adds nothing: it is that one).
    const running = (await store.listClusters()).filter((c) => c.state !== ClusterState.Deleted);
    const clusters: ClusterFacts[] = running.filter((c) => c.members.length > 0).map(memberFacts);
    if (body.clusters.length > 0) {
      const inventory = await regionInventory(store);
      body.clusters.forEach((text, i) => {
        const spec = parseClusterFile(text, `clusters[${i}]`);
        if (clusters.some((c) => c.name === spec.metadata.name)) return;
        const plan = buildPlan(spec, inventory);
        clusters.push({
          name: plan.cluster,
          machineIds: plan.nodes.map((n) => n.machineId),
          controlPlaneIds: plan.nodes.filter((n) => n.role !== Role.Worker).map((n) => n.machineId),
        });
      });
    }
    return { ...estimateCost(inputs, facts, clusters), windowDays: body.windowDays };
  };
  return async (app) => {
    app.post('/cost', {
      config: { role: 'viewer' },
      bodyLimit: 2 * (2 * COST_FILE_MAX + 16 * CLUSTER_FILE_MAX) + 1024,
      schema: {
        tags: ['cost'],
        summary:
          'Estimate the monthly cost of this region’s machines against cloud VMs and managed Kubernetes (writes nothing)',
        description:
          'Bare metal per machine (amortisation, support, power from the mean of its BMC power readings over `windowDays` or its class’s nominal watts, space) plus the site’s network, staff and egress; the cheapest fitting cloud instance per machine at on-demand and each reserved term; totals per region, cluster and pool with per-vCPU and per-GiB months, breakeven months and the dominant inputs. Formulas in docs/cost.md. A bad model, table or Cluster file is 400 naming the field.',
        body: CostBody,
        response: { 200: CostEstimateT, ...errorResponses },
      },
      handler: (req) => estimate(req.body),
    });

    app.post('/cost/csv', {
      config: { role: 'viewer' },
      bodyLimit: 2 * (2 * COST_FILE_MAX + 16 * CLUSTER_FILE_MAX) + 1024,
      schema: {
        tags: ['cost'],
        summary:
          'The same estimate as POST /cost, as CSV: one row per scope (region, cluster, pool) and option',
        description:
          'Columns: scope, name, option (bare-metal, cloud-vms, managed-kubernetes), term, monthly, upfront, per_vcpu_month, per_gib_month, breakeven_month, machines. `text/csv`.',
        body: CostBody,
        response: { 200: Type.String({ description: 'text/csv' }), ...errorResponses },
      },
      handler: async (req, reply) => {
        const e = await estimate(req.body);
        reply.header('content-type', 'text/csv; charset=utf-8');
        return costCsv(e);
      },
    });

    app.post('/capacity', {
      config: { role: 'viewer' },
      bodyLimit: 2 * CLUSTER_FILE_MAX + 1024,
      schema: {
        tags: ['cost'],
        summary: 'Capacity of a Cluster file planned onto this region’s ready machines (writes nothing)',
        description:
          'Per worker pool: allocatable (the planned machines’ threads and memory) vs requested (today the Cluster file’s count × selector minimums), what is left after losing each zone and each rack, spare ready machines per domain, and a recommendation in words. 400 as POST /clusters/plan for a bad file or a plan that cannot be made.',
        body: CapacityBody,
        response: { 200: ClusterCapacityT, ...errorResponses },
      },
      handler: async (req) => {
        const spec = parseClusterFile(req.body.cluster, 'Cluster file');
        const inventory = await regionInventory(store);
        const plan = buildPlan(spec, inventory);
        return clusterCapacity(spec, plan, inventory.machines, await requests.requests(spec, plan));
      },
    });

    app.get('/capacity', {
      config: { role: 'viewer' },
      schema: {
        tags: ['cost'],
        summary: 'Capacity of a cluster this region runs (writes nothing)',
        description:
          'As POST /capacity, for a cluster the region runs: its members are the nodes, requested is the sum of the pods’ requests on each pool’s nodes read from the cluster’s Kubernetes API, or — when the API does not answer or the region has no kubeconfig yet — the Cluster file’s count × selector minimums, with `requestsBasis` saying why. 404 for an unknown cluster.',
        querystring: CapacityQuery,
        response: { 200: ClusterCapacityT, ...errorResponses },
      },
      handler: async (req) => {
        const cluster = await store.getCluster(req.query.cluster);
        const spec = parseClusterFile(cluster.clusterFile, 'clusterFile');
        const machines = await costedMachines(store);
        const plan = memberPlan(spec, cluster.members, machines);
        const kubeconfig = o.kube ? await store.clusterKubeconfig(cluster.id) : null;
        if (o.kube && kubeconfig) {
          try {
            const live = await kubeRequests(o.kube, kubeconfig).requests(spec, plan);
            return clusterCapacity(spec, plan, machines, live);
          } catch (e) {
            if (!(e instanceof IngotError) || e.code !== ErrorCode.Unreachable) throw e;
            const fallback = await planRequests.requests(spec, plan);
            return clusterCapacity(spec, plan, machines, {
              ...fallback,
              basis: `${fallback.basis} (the cluster’s API did not answer: ${e.message.slice(0, 300)})`,
            });
          }
        }
        const fallback = await planRequests.requests(spec, plan);
        return clusterCapacity(spec, plan, machines, {
          ...fallback,
          basis: `${fallback.basis} (${o.kube ? 'no admin kubeconfig yet' : 'this region has no Kubernetes client'})`,
        });
      },
    });
  };
}
