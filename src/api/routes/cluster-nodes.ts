/**
 * One node of a running cluster over HTTP: drain it through the Eviction API, honouring
 * PodDisruptionBudgets (200 when drained; 409 INGOT_DRAIN_BLOCKED naming the PDB when
 * evictions are still refused at the timeout; the node stays cordoned), and uncordon it. The
 * request lasts as long as the drain (at most `timeoutSeconds`); both are on the cluster's
 * timeline with the node.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.ts';
import { actorOf } from '../auth.ts';
import {
  ClusterNodeParams,
  DrainNodeBody,
  DrainNodeResult,
  errorResponses,
  UncordonNodeResult,
} from '../schemas/index.ts';

const tags = ['clusters'];

export function clusterNodeRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/clusters/:name/nodes/:node/drain', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Cordon a node and evict its pods, honouring PodDisruptionBudgets (409 names the PDB that holds it)',
        params: ClusterNodeParams,
        body: DrainNodeBody,
        response: { 200: DrainNodeResult, ...errorResponses },
      },
      handler: async (req) => {
        const { name, node } = req.params;
        const r = await engine.drainNode(name, node, {
          timeoutMs: (req.body?.timeoutSeconds ?? 300) * 1000,
          force: req.body?.force ?? false,
          actor: actorOf(req),
        });
        return { node, evicted: [...r.evicted], kept: [...r.kept] };
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
