/**
 * GET /api/v1/machines/{id}/health: the machine's hardware health history as the health poller
 * kept it (src/health/poller.ts) and its disks' SMART reports; GET /api/v1/health: every
 * machine's newest poll and the disks at risk, for the racks view (docs/health.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { Store } from '../../store/store.ts';
import { diskRisk } from '../../core/health.ts';
import { errorResponses, HealthQuery, IdParams, MachineHealthT, RegionHealthT } from '../schemas/index.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function healthRoutes(store: Store, now: () => number = Date.now): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/health', {
      config: { role: 'viewer' },
      schema: {
        tags: ['machines'],
        summary: 'Every machine’s newest health poll and the disks at risk',
        description:
          'What the racks view colours by: each machine’s newest sample of the health poller (hottest temperature, power, failed fans and supplies, or an unanswered BMC), and the disks whose newest SMART report puts them at risk, with the reason in words.',
        response: { 200: RegionHealthT, ...errorResponses },
      },
      handler: async () => {
        const [machines, disks] = await Promise.all([store.latestHealth(), store.latestDiskHealth()]);
        const where = (l: { machineId: string; hostname: string; zone: string; rack: string }) => ({
          machine: l.machineId,
          hostname: l.hostname,
          zone: l.zone,
          rack: l.rack,
        });
        return {
          machines: machines.map(({ labels, sample: s }) => ({
            ...where(labels),
            at: iso(s.at),
            reachable: s.reachable,
            health: s.health as Static<typeof RegionHealthT>['machines'][number]['health'],
            tempMaxCelsius: s.tempMaxCelsius,
            watts: s.watts,
            fansFailed: s.fansFailed,
            psusFailed: s.psusFailed,
          })),
          disksAtRisk: disks.flatMap(({ labels, disk }) => {
            const reason = diskRisk(disk);
            return reason ? [{ ...where(labels), serial: disk.serial, device: disk.device, reason }] : [];
          }),
        };
      },
    });
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
