import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listPage } from '../event-page.ts';
import { Type } from 'typebox';
import { validateBmcAddress } from '../../bmc/registry.ts';
import { invalid } from '../../core/errors.ts';
import type { Action, MachineState } from '../../core/lifecycle.ts';
import { DELETABLE, MACHINE_STATES } from '../../core/lifecycle.ts';
import { isValidHostname, type Nic, normalizeMac } from '../../core/machine.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Store } from '../../store/store.ts';
import type { Machine } from '../../core/machine.ts';
import { actorOf } from '../auth.ts';
import { presentJob, presentMachine } from '../present.ts';
import {
  ActionBody,
  ActionParams,
  ActionResultT,
  CreateMachineBody,
  errorResponses,
  EventsQuery,
  IdParams,
  JobT,
  ListMachinesQuery,
  MachinePage,
  UpdateMachineBody,
} from '../schemas/index.ts';

function nicsFrom(input: { mac: string; boot?: boolean }[], field = 'nics'): Nic[] {
  const seen = new Set<string>();
  const nics = input.map((n, i) => {
    const mac = normalizeMac(n.mac);
    if (!mac)
      throw invalid(`${field}[${i}].mac`, `"${n.mac}" is not a MAC address; write it like 52:54:00:12:34:56`);
    if (seen.has(mac)) throw invalid(`${field}[${i}].mac`, `${mac} is listed twice`);
    seen.add(mac);
    return { mac, boot: n.boot ?? false };
  });
  const boots = nics.filter((n) => n.boot).length;
  if (boots > 1) throw invalid(field, 'more than one NIC has boot: true; mark exactly one');
  if (boots === 0 && nics.length > 0) nics[0] = { ...nics[0], boot: true };
  return nics;
}

function checkHostname(h: string): string {
  const lower = h.toLowerCase();
  if (!isValidHostname(lower)) {
    throw invalid(
      'hostname',
      `"${h}" is not a valid hostname: use 1-63 letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
  return lower;
}

function csv(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

export function machineRoutes(store: Store, engine: Engine): FastifyPluginAsyncTypebox {
  return async (app) => {
    /** The machine with the cluster it belongs to, if any. */
    const withCluster = async (m: Machine) =>
      presentMachine(m, (await store.clustersOfMachines([m.id])).get(m.id) ?? null);

    const tags = ['machines'];

    app.post('/machines', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Enrol a machine by its BMC and NICs',
        body: CreateMachineBody,
        response: { 201: Type.Ref('Machine'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const b = req.body;
        validateBmcAddress(b.bmc.address);
        const nics = nicsFrom(b.nics);
        for (const [i, nic] of nics.entries()) {
          const owner = await store.findMachineByMac(nic.mac);
          if (owner) {
            throw new IngotError(
              ErrorCode.Conflict,
              `nics[${i}].mac: ${nic.mac} already belongs to machine ${owner.hostname} (${owner.id})`,
              {
                details: { field: `nics[${i}].mac`, machine: owner.id },
              },
            );
          }
        }
        const bootMac = nics.find((n) => n.boot)!.mac;
        const hostname = b.hostname
          ? checkHostname(b.hostname)
          : `node-${bootMac.replace(/:/g, '').slice(6)}`;
        const m = await store.createMachine(
          {
            hostname,
            arch: b.arch ?? 'amd64',
            bmc: b.bmc,
            nics,
            tags: b.tags ?? [],
            zone: b.zone ?? 'default',
            rack: b.rack ?? 'default',
            pool: b.pool ?? 'default',
          },
          actorOf(req),
        );
        reply.status(201);
        return presentMachine(m);
      },
    });

    app.get('/machines', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'List machines with filters and keyset pagination',
        querystring: ListMachinesQuery,
        response: { 200: MachinePage, ...errorResponses },
      },
      handler: async (req) => {
        const q = req.query;
        const state = csv(q.state);
        const bad = state?.find((s) => !MACHINE_STATES.includes(s as MachineState));
        if (bad)
          throw invalid('state', `"${bad}" is not a machine state; use one of ${MACHINE_STATES.join(', ')}`);
        const page = await store.listMachines(
          {
            state: state as MachineState[] | undefined,
            tag: csv(q.tag),
            zone: q.zone,
            rack: q.rack,
            pool: q.pool,
            owner: q.owner,
            q: q.q,
          },
          q.limit ?? 100,
          q.cursor,
        );
        const members = await store.clustersOfMachines(page.items.map((m) => m.id));
        return { ...page, items: page.items.map((m) => presentMachine(m, members.get(m.id) ?? null)) };
      },
    });

    app.get('/machines/:id', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Get a machine',
        params: IdParams,
        response: { 200: Type.Ref('Machine'), ...errorResponses },
      },
      handler: async (req) => withCluster(await store.getMachine(req.params.id)),
    });

    app.patch('/machines/:id', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Change a machine’s hostname, BMC, NICs, tags or location',
        params: IdParams,
        body: UpdateMachineBody,
        response: { 200: Type.Ref('Machine'), ...errorResponses },
      },
      handler: async (req) => {
        const { version, ...b } = req.body;
        if (b.bmc) validateBmcAddress(b.bmc.address);
        const patch = {
          ...b,
          hostname: b.hostname === undefined ? undefined : checkHostname(b.hostname),
          nics: b.nics === undefined ? undefined : nicsFrom(b.nics),
        };
        return withCluster(await store.updateMachine(req.params.id, patch, actorOf(req), version));
      },
    });

    app.delete('/machines/:id', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Delete a machine (only when no hardware is in use)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      handler: async (req, reply) => {
        const m = await store.getMachine(req.params.id);
        if (!DELETABLE.includes(m.state)) {
          throw new IngotError(
            ErrorCode.InvalidTransition,
            `cannot delete machine ${m.hostname} while it is ${m.state}; release or abort it first`,
            {
              details: { state: m.state, deletableIn: DELETABLE },
            },
          );
        }
        await store.deleteMachine(m.id, actorOf(req));
        reply.status(204);
        return null;
      },
    });

    app.post('/machines/:id/actions/:action', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Run a lifecycle or power action',
        description:
          'commission, allocate, deploy, release, power-on, power-off, power-cycle, rescue, exit-rescue, mark-broken, mark-fixed, abort, retire. 409 names the state and the allowed actions.',
        params: ActionParams,
        body: ActionBody,
        response: { 202: ActionResultT, ...errorResponses },
      },
      handler: async (req, reply) => {
        const r = await engine.act({
          machineId: req.params.id,
          action: req.params.action as Action,
          actor: actorOf(req),
          params: req.body.params,
          comment: req.body.comment,
        });
        reply.status(202);
        return { machine: await withCluster(r.machine), job: r.job ? presentJob(r.job) : null };
      },
    });

    app.get('/machines/:id/events', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'A machine’s timeline, oldest first (`newest`: its latest page)',
        params: IdParams,
        querystring: EventsQuery,
        response: { 200: Type.Array(Type.Ref('Event')), ...errorResponses },
      },
      handler: async (req) => {
        await store.getMachine(req.params.id);
        return listPage(store, { machineId: req.params.id }, req.query);
      },
    });

    app.get('/machines/:id/jobs', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'A machine’s jobs, newest first',
        params: IdParams,
        response: { 200: Type.Array(JobT), ...errorResponses },
      },
      handler: async (req) => {
        await store.getMachine(req.params.id);
        return (await store.listJobs({ machineId: req.params.id }, 50)).map(presentJob);
      },
    });

    app.get('/jobs/:id', {
      config: { role: 'viewer' },
      schema: {
        tags: ['jobs'],
        summary: 'Get a job with its steps',
        params: IdParams,
        response: { 200: JobT, ...errorResponses },
      },
      handler: async (req) => presentJob(await store.getJob(req.params.id)),
    });
  };
}
