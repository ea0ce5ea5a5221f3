/**
 * `POST /clusters/{name}/scale`: add workers from ready machines or drain, delete and release
 * workers (src/engine/cluster/scale.ts). 202 with the cluster (updating) and its scale job; 200
 * with no job when the cluster already has that many workers; 400 naming the field for a
 * request the rules refuse (too few ready machines, a control-plane change, an unknown node);
 * 409 while another change runs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.ts';
import { actorOf } from '../auth.ts';
import { presentCluster, presentJob } from '../present.ts';
import { ClusterJobResult, ClusterNameParams, errorResponses, ScaleClusterBody } from '../schemas/index.ts';

export function clusterScaleRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/clusters/:name/scale', {
      config: { role: 'operator' },
      schema: {
        tags: ['clusters'],
        summary:
          'Scale a cluster’s workers: allocate and join ready machines, or drain, delete and release workers',
        description:
          '202 with the cluster (updating) and its scale job; 200 and no job when nothing changes. Each node’s steps go on the cluster’s timeline.',
        params: ClusterNameParams,
        body: ScaleClusterBody,
        response: { 200: ClusterJobResult, 202: ClusterJobResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const b = req.body;
        const r = await engine.scaleCluster(req.params.name, {
          ...(b.workers !== undefined ? { workers: b.workers } : {}),
          ...(b.remove ? { remove: b.remove } : {}),
          ...(b.controlPlanes !== undefined ? { controlPlanes: b.controlPlanes } : {}),
          ...(b.pool ? { pool: b.pool } : {}),
          ...(b.image ? { image: b.image } : {}),
          ...(b.wipe ? { wipe: b.wipe } : {}),
          actor: actorOf(req),
        });
        reply.status(r.job ? 202 : 200);
        return { cluster: presentCluster(r.cluster), job: r.job ? presentJob(r.job) : null };
      },
    });
  };
}
