/**
 * The building blocks of the Cluster file's JSON Schema (schema.ts): typed shorthands and the
 * pieces several sections share (names, ASNs, secret references, machine selectors, BGP peers).
 */

export type Schema = Record<string, unknown>;

export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
export const bool = (dflt: boolean, description?: string): Schema =>
  description === undefined
    ? { type: 'boolean', default: dflt }
    : { type: 'boolean', default: dflt, description };
export const list = (items: Schema, extra: Schema = {}): Schema => ({
  type: 'array',
  items,
  default: [],
  ...extra,
});
export const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...extra,
});

export const dnsLabel = str({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
export const asn = int({ minimum: 1, maximum: 4294967294 });
export const secretRef = obj(
  { secret: str({ pattern: '^[A-Za-z0-9_.-]+$', description: 'Name of the secret (see docs/cluster.md)' }) },
  { required: ['secret'] },
);

export const machineSelector = obj(
  {
    pool: str({ description: 'Machine pool the machines must belong to' }),
    tags: list(str(), { description: 'Tags every selected machine must carry' }),
    zones: list(str(), { description: 'Allowed zones; empty allows any' }),
    racks: list(str(), { description: 'Allowed racks; empty allows any' }),
    minCpu: int({ minimum: 0, default: 0 }),
    minMemoryGiB: { type: 'number', minimum: 0, default: 0 },
    minDiskGiB: { type: 'number', minimum: 0, default: 0 },
    minGpus: int({ minimum: 0, default: 0 }),
  },
  { default: {} },
);

export const bgpPeer = obj(
  {
    address: str({ description: 'Router address the nodes peer with' }),
    asn,
    racks: list(str(), { description: 'Nodes in these racks peer with this router; empty means all nodes' }),
    password: secretRef,
  },
  { required: ['address', 'asn'] },
);

export const podSecurityLevel = { enum: ['privileged', 'baseline', 'restricted'] };
