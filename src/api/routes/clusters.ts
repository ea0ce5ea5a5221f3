/**
 * Clusters over HTTP. `POST /clusters/plan` plans a Cluster file onto the region's ready
 * machines and subnets (writes nothing), as `ingot cluster plan --region` does. `POST /clusters`
 * creates one — plan, allocate, deploy, bootstrap, as a durable job (202) — and the cluster then
 * lives: list, get (members with their machines' states, the current job's steps, the
 * conditions), its timeline, its admin kubeconfig (admin only, audited, never cached), delete
 * and retry.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listPage } from '../event-page.ts';
import { Type } from 'typebox';
import { planCluster } from '../../cluster/index.ts';
import { parseClusterFile } from '../../cluster/spec/parse.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Machine } from '../../core/machine.ts';
import { atStage, PlanStage } from '../../engine/cluster/actions.ts';
import { clusterMachines } from '../../engine/cluster/context.ts';
import { regionInventory } from '../../engine/cluster/inventory.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import { presentCluster, presentJob } from '../present.ts';
import {
  CLUSTER_FILE_MAX,
  ClusterActionParams,
  ClusterDetail,
  ClusterJobResult,
  ClusterNameParams,
  CreateClusterBody,
  DeleteClusterQuery,
  errorResponses,
  EventsQuery,
  KubeconfigResult,
  ListClustersQuery,
  PlanClusterBody,
  PlanClusterResult,
} from '../schemas/index.ts';

export { PlanStage } from '../../engine/cluster/actions.ts';

const tags = ['clusters'];
// JSON escaping (newlines, quotes) can double the text; the schema caps the text itself.
const bodyLimit = 2 * CLUSTER_FILE_MAX + 1024;

export function clusterRoutes(store: Store, engine: Engine): FastifyPluginAsyncTypebox {
  /** The cluster with each member's machine, and its newest job with its steps. */
  const detail = async (ref: string) => {
    const c = await store.getCluster(ref);
    const machines = new Map<string, Machine>(
      (await clusterMachines(store, c, c.members)).map((m) => [m.id, m]),
    );
    const [job] = await store.listJobs({ clusterId: c.id }, 1);
    return { cluster: presentCluster(c, machines), job: job ? presentJob(job) : null };
  };

  return async (app) => {
    app.post('/clusters/plan', {
      config: { role: 'viewer' },
      bodyLimit,
      schema: {
        tags,
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
        const spec = await atStage(PlanStage.ClusterFile, () =>
          parseClusterFile(req.body.cluster, 'Cluster file'),
        );
        const inventory = await regionInventory(store);
        const { plan, text } = await atStage(PlanStage.Plan, () => planCluster(spec, inventory));
        return { plan, text };
      },
    });

    app.post('/clusters', {
      config: { role: 'operator' },
      bodyLimit,
      schema: {
        tags,
        summary: 'Create a cluster from a Cluster file: allocate ready machines, deploy and bootstrap them',
        description:
          'Plans the Cluster file onto the ready machines (addresses in use are skipped), allocates them to the ' +
          'cluster atomically and starts the create job: deploy every node, bootstrap the init control plane, ' +
          'the other control planes one at a time, then the workers, and wait until every node is Ready. ' +
          '202 with the cluster and its job. A bad file or an impossible plan is 400 with `details.stage` ' +
          '(`cluster-file`, `plan`, `secrets`) and `details.problems`; a name in use is 409.',
        body: CreateClusterBody,
        response: { 202: ClusterJobResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const r = await engine.createCluster({
          clusterFile: req.body.cluster,
          image: req.body.image,
          actor: actorOf(req),
        });
        reply.status(202);
        return { cluster: presentCluster(r.cluster), job: presentJob(r.job) };
      },
    });

    app.get('/clusters', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'List clusters by name (deleted ones with ?all=true)',
        querystring: ListClustersQuery,
        response: { 200: Type.Array(Type.Ref('Cluster')), ...errorResponses },
      },
      handler: async (req) =>
        (await store.listClusters({ includeDeleted: req.query.all === true })).map((c) => presentCluster(c)),
    });

    app.get('/clusters/:name', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary:
          'A cluster: state and reason, members with their machines’ states, conditions, its current job',
        params: ClusterNameParams,
        response: { 200: ClusterDetail, ...errorResponses },
      },
      handler: async (req) => detail(req.params.name),
    });

    app.get('/clusters/:name/events', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary:
          'A cluster’s timeline, oldest first (each member’s bootstrap is on its machine’s timeline too)',
        params: ClusterNameParams,
        querystring: EventsQuery,
        response: { 200: Type.Array(Type.Ref('Event')), ...errorResponses },
      },
      handler: async (req) => {
        const c = await store.getCluster(req.params.name);
        return listPage(store, { clusterId: c.id }, req.query);
      },
    });

    app.get('/clusters/:name/kubeconfig', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'The cluster’s admin kubeconfig (admin only; every read is on the cluster’s timeline)',
        description:
          '404 while the init control plane has not returned it. Answered with Cache-Control: no-store.',
        params: ClusterNameParams,
        response: { 200: KubeconfigResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const c = await store.getCluster(req.params.name);
        const kubeconfig = await store.clusterKubeconfig(c.id);
        if (kubeconfig === null)
          throw new IngotError(
            ErrorCode.NotFound,
            `cluster ${c.name} has no admin kubeconfig yet (it is ${c.state}); it is stored when the init control plane is bootstrapped`,
            { details: { cluster: c.name, state: c.state } },
          );
        await store.appendEvents([
          {
            type: 'cluster.kubeconfig.read',
            level: 'warning',
            clusterId: c.id,
            actor: actorOf(req),
            message: `admin kubeconfig read by ${actorOf(req)}`,
          },
        ]);
        reply.header('cache-control', 'no-store');
        return { kubeconfig };
      },
    });

    app.delete('/clusters/:name', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Delete a cluster: drain its nodes, release and wipe every machine',
        description:
          '202 with the cluster (deleting) and its delete job. 409 names the state and the allowed actions.',
        params: ClusterNameParams,
        querystring: DeleteClusterQuery,
        response: { 202: ClusterJobResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const r = await engine.clusterAct(req.params.name, 'delete', actorOf(req), {
          ...(req.query.wipe ? { wipe: req.query.wipe } : {}),
        });
        reply.status(202);
        return { cluster: presentCluster(r.cluster), job: r.job ? presentJob(r.job) : null };
      },
    });

    app.post('/clusters/:name/actions/:action', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Retry a failed cluster workflow at the step that failed',
        params: ClusterActionParams,
        response: { 202: ClusterJobResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const r = await engine.clusterAct(req.params.name, req.params.action, actorOf(req));
        reply.status(202);
        return { cluster: presentCluster(r.cluster), job: r.job ? presentJob(r.job) : null };
      },
    });
  };
}
