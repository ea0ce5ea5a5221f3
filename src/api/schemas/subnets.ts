/** Subnets, their ranges and addresses: `/subnets…`. */
import { type Static, Type } from 'typebox';
import { ALLOCATION_KINDS, DHCP_MODES, RANGE_KINDS } from '../../core/subnet.ts';
import { Ipv4, Label, Lit, MAX, Mac, Nullable } from './common.ts';

const RangeT = Type.Object(
  {
    kind: Lit(RANGE_KINDS),
    start: Ipv4,
    end: Ipv4,
    comment: Type.Optional(Type.String({ maxLength: MAX.comment })),
  },
  { additionalProperties: false },
);

export const SubnetT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    cidr: Type.String(),
    gateway: Nullable(Type.String()),
    dns: Type.Array(Type.String()),
    vlan: Nullable(Type.Integer()),
    dhcpMode: Lit(DHCP_MODES),
    autoEnlist: Type.Boolean(),
    ranges: Type.Array(RangeT),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Subnet' },
);

const Dns = Type.Array(Ipv4, { maxItems: 8, description: 'DNS servers handed out by DHCP' });
const Vlan = Nullable(Type.Integer({ minimum: 1, maximum: 4094 }));
const Ranges = Type.Array(RangeT, { maxItems: 64 });

export const CreateSubnetBody = Type.Object(
  {
    name: Label,
    cidr: Type.String({ maxLength: 18, description: 'IPv4 network, e.g. 10.0.0.0/24' }),
    gateway: Type.Optional(Nullable(Ipv4)),
    dns: Type.Optional(Dns),
    vlan: Type.Optional(Vlan),
    dhcpMode: Type.Optional(Lit(DHCP_MODES)),
    autoEnlist: Type.Optional(Type.Boolean()),
    ranges: Type.Optional(Ranges),
  },
  { additionalProperties: false },
);
export type CreateSubnetBody = Static<typeof CreateSubnetBody>;

/** Every field of a subnet but its CIDR, each optional. */
export const UpdateSubnetBody = Type.Partial(Type.Omit(CreateSubnetBody, ['cidr']), {
  additionalProperties: false,
});

export const IpAllocationT = Type.Object({
  subnetId: Type.String(),
  ip: Type.String(),
  machineId: Nullable(Type.String()),
  mac: Nullable(Type.String()),
  kind: Lit(ALLOCATION_KINDS),
  expiresAt: Nullable(Type.String()),
});

export const AssignAddressBody = Type.Object(
  {
    ip: Type.Optional(Ipv4),
    machineId: Type.Optional(Type.String({ minLength: 1, maxLength: MAX.id })),
    mac: Type.Optional(Mac),
  },
  { additionalProperties: false },
);
