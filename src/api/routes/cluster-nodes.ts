/**
 * One node of a running cluster over HTTP: drain it through the Eviction API, honouring
 * PodDisruptionBudgets, as a durable `drain` operation (202 with the operation at once; 409
 * INGOT_OPERATION_RUNNING while another operation holds the cluster; `GET …/operations/{id}`
 * follows it: a PDB still refusing at the timeout fails it naming the PDB, the node left
 * cordoned; `GET …/nodes/{node}/drain` answers the newest drain of the node in the same view),
 * and uncordon it. Both are on the cluster's timeline with the node.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { OperationKind } from '../../core/operation.ts';
import type { Engine } from '../../engine/engine.ts';
import { drainView } from '../../engine/cluster/drain-start.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import {
  ClusterNodeParams,
  DrainNodeBody,
  DrainNodeResult,
  errorResponses,
  UncordonNodeResult,
} from '../schemas/index.ts';

const tags = ['clusters'];

export function clusterNodeRoutes(engine: Engine, store: Store): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/clusters/:name/nodes/:node/drain', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Cordon a node and evict its pods, honouring PodDisruptionBudgets: a durable operation (202; follow it with GET …/operations/{id}); 409 while another operation runs',
        params: ClusterNodeParams,
        body: DrainNodeBody,
        response: { 202: DrainNodeResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const { name, node } = req.params;
        const op = await engine.drainNode(name, {
          node,
          ...(req.body?.timeoutSeconds !== undefined ? { timeoutSeconds: req.body.timeoutSeconds } : {}),
          ...(req.body?.force !== undefined ? { force: req.body.force } : {}),
          ...(req.body?.reason !== undefined ? { reason: req.body.reason } : {}),
          actor: actorOf(req),
        });
        return reply.code(202).send(drainView(op));
      },
    });

    app.get('/clusters/:name/nodes/:node/drain', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary:
          'The newest drain of the node: its state, step and message (a PDB holding it is named there), and once it ended the pods evicted and kept',
        params: ClusterNodeParams,
        response: { 200: DrainNodeResult, ...errorResponses },
      },
      handler: async (req) => {
        const { name, node } = req.params;
        const c = await store.getCluster(name);
        const op = (await store.listOperations(c.id, 200)).find(
          (o) => o.kind === OperationKind.Drain && o.params.node === node,
        );
        if (!op)
          throw new IngotError(
            ErrorCode.NotFound,
            `cluster ${c.name} has no drain of node ${node}; \`ingot cluster drain ${c.name} ${node}\` starts one`,
            { details: { cluster: c.name, node } },
          );
        return drainView(op);
      },
    });

    app.post('/clusters/:name/nodes/:node/uncordon', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Make a drained node schedulable again',
        params: ClusterNodeParams,
        response: { 200: UncordonNodeResult, ...errorResponses },
      },
      handler: async (req) => {
        await engine.uncordonNode(req.params.name, req.params.node, actorOf(req));
        return { node: req.params.node, schedulable: true };
      },
    });
  };
}
