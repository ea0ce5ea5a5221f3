/**
 * GET /api/v1/machines/{id}/health: the machine's hardware health history as the health poller
 * kept it (src/health/poller.ts) and its disks' SMART reports (docs/health.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { Store } from '../../store/store.ts';
import { errorResponses, HealthQuery, IdParams, MachineHealthT } from '../schemas/index.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function healthRoutes(store: Store, now: () => number = Date.now): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/machines/:id/health', {
      config: { role: 'viewer' },
      schema: {
        tags: ['machines'],
        summary: 'Hardware health history: BMC polls and disk SMART reports',
        description:
          'Samples of the health poller (sensors rolled up, SEL counts, or why the BMC did not answer) of the last `hours`, the newest `limit` of them, oldest first; and the SMART reports of the machine’s disks, per serial.',
        params: IdParams,
        querystring: HealthQuery,
        response: { 200: MachineHealthT, ...errorResponses },
      },
      handler: async (req) => {
        const m = await store.getMachine(req.params.id);
        const since = now() - (req.query.hours ?? 24) * 3_600_000;
        const [samples, disks] = await Promise.all([
          store.healthHistory(m.id, since, req.query.limit ?? 1440),
          store.diskHealthHistory(m.id, 0),
        ]);
        return {
          samples: samples.map(({ machineId: _m, at, ...s }) => ({ ...s, at: iso(at) })),
          disks: disks.map(({ machineId: _m, at, ...d }) => ({ ...d, at: iso(at) })),
        } as Static<typeof MachineHealthT>; // readings' kind and health are the driver's own lists
      },
    });
  };
}
