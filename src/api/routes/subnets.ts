import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf } from '../auth.ts';
import type { Store } from '../../store/store.ts';
import {
  AssignAddressBody,
  CreateSubnetBody,
  errorResponses,
  IdParams,
  IpAllocationT,
  UpdateSubnetBody,
} from '../schemas/index.ts';

export function subnetRoutes(store: Store): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['subnets'];
    app.post('/subnets', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create a subnet with its dynamic and reserved ranges',
        body: CreateSubnetBody,
        response: { 201: Type.Ref('Subnet'), ...errorResponses },
      },
      handler: async (req, reply) => {
        const b = req.body;
        const s = await store.createSubnet(
          {
            name: b.name,
            cidr: b.cidr,
            gateway: b.gateway ?? null,
            dns: b.dns ?? [],
            vlan: b.vlan ?? null,
            dhcpMode: b.dhcpMode ?? 'off',
            autoEnlist: b.autoEnlist ?? false,
            ranges: b.ranges ?? [],
          },
          actorOf(req),
        );
        reply.status(201);
        return s;
      },
    });
    app.get('/subnets', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'List subnets',
        response: { 200: Type.Array(Type.Ref('Subnet')), ...errorResponses },
      },
      handler: async () => store.listSubnets(),
    });
    app.get('/subnets/:id', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Get a subnet by id or name',
        params: IdParams,
        response: { 200: Type.Ref('Subnet'), ...errorResponses },
      },
      handler: async (req) => store.getSubnet(req.params.id),
    });
    app.patch('/subnets/:id', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Change a subnet',
        params: IdParams,
        body: UpdateSubnetBody,
        response: { 200: Type.Ref('Subnet'), ...errorResponses },
      },
      handler: async (req) =>
        store.updateSubnet((await store.getSubnet(req.params.id)).id, req.body, actorOf(req)),
    });
    app.delete('/subnets/:id', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Delete a subnet',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      handler: async (req, reply) => {
        await store.deleteSubnet(req.params.id, actorOf(req));
        reply.status(204);
        return null;
      },
    });
    app.get('/subnets/:id/addresses', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'Addresses in use (leases and static assignments)',
        params: IdParams,
        response: { 200: Type.Array(IpAllocationT), ...errorResponses },
      },
      handler: async (req) => store.listIps(req.params.id),
    });
    app.post('/subnets/:id/addresses', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary: 'Assign an address: the given one, or the lowest free one of the dynamic ranges',
        params: IdParams,
        body: AssignAddressBody,
        response: { 201: IpAllocationT, ...errorResponses },
      },
      handler: async (req, reply) => {
        const s = await store.getSubnet(req.params.id);
        if (req.body.machineId) await store.getMachine(req.body.machineId);
        const a = await store.allocateIp(s.id, { ...req.body, kind: 'static' });
        reply.status(201);
        return a;
      },
    });
  };
}
