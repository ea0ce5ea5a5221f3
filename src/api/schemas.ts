/**
 * Wire schemas (TypeBox → JSON Schema). Fastify validates every request against them and
 * @fastify/swagger turns them into the OpenAPI 3.1 document at /api/v1/openapi.json, from
 * which the UI's types are generated.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { ROLES } from '../core/auth.ts';
import { ACTIONS, MACHINE_STATES } from '../core/lifecycle.ts';

/** A string enum as `{type: string, enum: [...]}`: one clear validation error listing the values. */
const Lit = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code, INGOT_…' }),
    message: Type.String({ description: 'What went wrong and what to do' }),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'Error' },
);

export const MachineStateT = Lit(MACHINE_STATES);
export const ActionT = Lit(ACTIONS);
export const RoleT = Lit(ROLES);

const Mac = Type.String({
  pattern: '^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$',
  description: 'MAC address, e.g. 52:54:00:12:34:56',
});
const Label = Type.String({ maxLength: 63, pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$' });

export const NicT = Type.Object({
  mac: Type.String(),
  boot: Type.Boolean(),
  name: Type.Optional(Type.String()),
  driver: Type.Optional(Type.String()),
  speedMbps: Type.Optional(Type.Number()),
});

export const MachineT = Type.Object(
  {
    id: Type.String(),
    hostname: Type.String(),
    arch: Type.String(),
    state: MachineStateT,
    stateReason: Type.String(),
    stateEnteredAt: Type.String({ format: 'date-time' }),
    powerState: Lit(['on', 'off', 'unknown']),
    bmc: Nullable(Type.Object({ address: Type.String(), username: Type.String() })),
    nics: Type.Array(NicT),
    disks: Type.Array(
      Type.Object({
        name: Type.String(),
        sizeBytes: Type.Number(),
        model: Type.Optional(Type.String()),
        serial: Type.Optional(Type.String()),
        rotational: Type.Optional(Type.Boolean()),
      }),
    ),
    cpu: Nullable(
      Type.Object({
        model: Type.Optional(Type.String()),
        cores: Type.Number(),
        threads: Type.Optional(Type.Number()),
      }),
    ),
    memoryBytes: Nullable(Type.Number()),
    tags: Type.Array(Type.String()),
    zone: Type.String(),
    rack: Type.String(),
    pool: Type.String(),
    owner: Type.String(),
    commissionedAt: Nullable(Type.String({ format: 'date-time' })),
    allowedActions: Type.Array(ActionT, { description: 'Actions the lifecycle allows in the current state' }),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Machine' },
);

export const BmcInput = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      description:
        'redfish+https://host[:port][/redfish/v1/Systems/ID], redfish+http://…, ipmi://host[:port]',
    }),
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1, writeOnly: true, description: 'Stored encrypted; never returned' }),
  },
  { additionalProperties: false },
);

export const CreateMachineBody = Type.Object(
  {
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
    arch: Type.Optional(Lit(['amd64', 'arm64'])),
    bmc: BmcInput,
    nics: Type.Array(
      Type.Object({ mac: Mac, boot: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      { minItems: 1 },
    ),
    tags: Type.Optional(Type.Array(Label, { maxItems: 64 })),
    zone: Type.Optional(Label),
    rack: Type.Optional(Label),
    pool: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type CreateMachineBody = Static<typeof CreateMachineBody>;

export const UpdateMachineBody = Type.Object(
  {
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
    bmc: Type.Optional(
      Type.Object(
        {
          address: Type.String({ minLength: 1 }),
          username: Type.String({ minLength: 1 }),
          password: Type.Optional(Type.String({ minLength: 1, writeOnly: true })),
        },
        { additionalProperties: false },
      ),
    ),
    nics: Type.Optional(
      Type.Array(
        Type.Object({ mac: Mac, boot: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        { minItems: 1 },
      ),
    ),
    tags: Type.Optional(Type.Array(Label, { maxItems: 64 })),
    zone: Type.Optional(Label),
    rack: Type.Optional(Label),
    pool: Type.Optional(Label),
    version: Type.Optional(
      Type.Integer({
        description: 'Expected version: the update fails with 409 if the machine changed since',
      }),
    ),
  },
  { additionalProperties: false },
);
export type UpdateMachineBody = Static<typeof UpdateMachineBody>;

export const ListMachinesQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ description: 'Comma-separated states' })),
    tag: Type.Optional(Type.String({ description: 'Comma-separated tags; a machine must have all' })),
    zone: Type.Optional(Type.String()),
    rack: Type.Optional(Type.String()),
    pool: Type.Optional(Type.String()),
    owner: Type.Optional(Type.String()),
    q: Type.Optional(Type.String({ description: 'Hostname substring, MAC or id' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ListMachinesQuery = Static<typeof ListMachinesQuery>;

export const MachinePage = Type.Object({
  items: Type.Array(Type.Ref('Machine')),
  next: Nullable(Type.String()),
  total: Type.Integer(),
});

export const ActionBody = Type.Object(
  {
    comment: Type.Optional(Type.String({ maxLength: 500 })),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const JobStepT = Type.Object({
  name: Type.String(),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  attempts: Type.Integer(),
  error: Nullable(Type.String()),
});

export const JobT = Type.Object(
  {
    id: Type.String(),
    machineId: Type.String(),
    kind: Type.String(),
    status: Lit(['queued', 'running', 'done', 'failed', 'cancelled']),
    steps: Type.Array(JobStepT),
    stepIndex: Type.Integer(),
    error: Nullable(Type.String()),
    actor: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    finishedAt: Nullable(Type.String()),
  },
  { $id: 'Job' },
);

export const ActionResultT = Type.Object({ machine: Type.Ref('Machine'), job: Nullable(Type.Ref('Job')) });

export const EventT = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String(),
    type: Type.String(),
    level: Lit(['info', 'warning', 'error']),
    machineId: Nullable(Type.String()),
    jobId: Nullable(Type.String()),
    actor: Type.String(),
    message: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'Event' },
);

export const EventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events with a larger id' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);

const RangeT = Type.Object(
  {
    kind: Lit(['dynamic', 'reserved']),
    start: Type.String(),
    end: Type.String(),
    comment: Type.Optional(Type.String()),
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
    dhcpMode: Lit(['full', 'proxy', 'off']),
    autoEnlist: Type.Boolean(),
    ranges: Type.Array(RangeT),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Subnet' },
);

export const CreateSubnetBody = Type.Object(
  {
    name: Label,
    cidr: Type.String({ description: 'IPv4 network, e.g. 10.0.0.0/24' }),
    gateway: Type.Optional(Nullable(Type.String())),
    dns: Type.Optional(Type.Array(Type.String())),
    vlan: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 4094 }))),
    dhcpMode: Type.Optional(Lit(['full', 'proxy', 'off'])),
    autoEnlist: Type.Optional(Type.Boolean()),
    ranges: Type.Optional(Type.Array(RangeT)),
  },
  { additionalProperties: false },
);
export type CreateSubnetBody = Static<typeof CreateSubnetBody>;

export const UpdateSubnetBody = Type.Object(
  {
    name: Type.Optional(Label),
    gateway: Type.Optional(Nullable(Type.String())),
    dns: Type.Optional(Type.Array(Type.String())),
    vlan: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 4094 }))),
    dhcpMode: Type.Optional(Lit(['full', 'proxy', 'off'])),
    autoEnlist: Type.Optional(Type.Boolean()),
    ranges: Type.Optional(Type.Array(RangeT)),
  },
  { additionalProperties: false },
);

export const IpAllocationT = Type.Object({
  subnetId: Type.String(),
  ip: Type.String(),
  machineId: Nullable(Type.String()),
  mac: Nullable(Type.String()),
  kind: Lit(['static', 'dhcp']),
  expiresAt: Nullable(Type.String()),
});

export const TokenT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: RoleT,
    createdAt: Type.String(),
    expiresAt: Nullable(Type.String()),
    lastUsedAt: Nullable(Type.String()),
    revoked: Type.Boolean(),
  },
  { $id: 'Token' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Label,
    role: RoleT,
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const CreatedTokenT = Type.Object({
  token: Type.Ref('Token'),
  secret: Type.String({ description: 'The bearer token; shown once, store it now' }),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });
export const ActionParams = Type.Object({ id: Type.String({ minLength: 1 }), action: ActionT });

/** Shared schemas registered once with Fastify so routes can `$ref` them. */
export const SHARED_SCHEMAS = [ErrorBody, MachineT, JobT, EventT, SubnetT, TokenT];

export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
};

/* Clusters: POST /api/v1/clusters/plan (src/api/routes/clusters.ts). */

/** The most Cluster file text a plan request takes (1 MiB); route bodyLimit allows for JSON escaping. */
export const CLUSTER_FILE_MAX = 1024 * 1024;

export const PlanClusterBody = Type.Object(
  {
    cluster: Type.String({
      minLength: 1,
      maxLength: CLUSTER_FILE_MAX,
      description: 'The Cluster file as YAML text (docs/cluster.md), at most 1 MiB',
    }),
  },
  { additionalProperties: false },
);
export type PlanClusterBody = Static<typeof PlanClusterBody>;

const PlannedNodeT = Type.Object({
  hostname: Type.String(),
  machineId: Type.String(),
  role: Lit(['control-plane', 'etcd', 'worker']),
  pool: Type.String({ description: 'Worker pool name; control-plane / etcd for those roles' }),
  zone: Type.String(),
  rack: Type.String(),
  init: Type.Boolean({ description: 'The node bootstraps the cluster (first control plane)' }),
  address: Type.String({ description: 'Node address with prefix, e.g. 10.0.1.10/24' }),
  ip: Type.String(),
  gateway: Nullable(Type.String()),
  dns: Type.Array(Type.String()),
  subnet: Type.String({ description: 'Name of the subnet the address comes from' }),
  nics: Type.Array(NicT),
  disks: MachineT.properties.disks,
  labels: Type.Record(Type.String(), Type.String()),
  taints: Type.Array(
    Type.Object({ key: Type.String(), value: Type.Optional(Type.String()), effect: Type.String() }),
  ),
});

const WhatIfRowT = Type.Object(
  {
    domain: Lit(['zone', 'rack']),
    name: Type.String(),
    lost: Type.Object(
      {
        controlPlanes: Type.Integer(),
        etcd: Type.Integer({ description: 'Dedicated etcd nodes (external topology) only' }),
        workers: Type.Integer(),
      },
      { description: 'Nodes lost with the domain, by role' },
    ),
    etcdSurvivors: Type.Integer(),
    etcdMembers: Type.Integer(),
    quorum: Type.Boolean({ description: 'etcd keeps quorum' }),
    apiAvailable: Type.Boolean({ description: 'etcd keeps quorum and at least one API server survives' }),
    workersSurviving: Type.Integer(),
    workersTotal: Type.Integer(),
  },
  { description: 'What is left after losing one zone or one rack' },
);

export const ClusterPlanT = Type.Object({
  cluster: Type.String(),
  distribution: Type.String(),
  version: Type.String(),
  endpoint: Type.String({ description: 'https://ADDRESS:PORT of the API' }),
  etcd: Type.Object({
    topology: Type.String({ description: 'stacked or external' }),
    members: Type.Array(Type.String(), { description: 'Hostnames of the etcd members' }),
    quorum: Type.Integer(),
  }),
  nodes: Type.Array(PlannedNodeT, {
    description: 'Control planes (the init node first), then etcd, then workers; each by hostname',
  }),
  whatIf: Type.Array(WhatIfRowT, { description: 'Every zone, then every rack, holding a node' }),
  warnings: Type.Array(Type.String()),
});

export const PlanClusterResult = Type.Object({
  plan: ClusterPlanT,
  text: Type.String({ description: 'The plan as `ingot cluster plan` prints it' }),
});

/* Sensors: GET /api/v1/machines/{id}/sensors (src/api/routes/sensors.ts). */

const SENSOR_HEALTH = ['ok', 'warning', 'critical', 'unknown'] as const;

export const SensorReadingsT = Type.Object({
  health: Lit(SENSOR_HEALTH, 'Worst health of the system as the BMC rolls it up'),
  readings: Type.Array(
    Type.Object({
      name: Type.String({ description: 'Sensor name as the BMC reports it, e.g. CPU temperature' }),
      kind: Lit(['temperature', 'fan', 'power', 'voltage', 'other']),
      value: Nullable(Type.Number({ description: 'null when the BMC has no reading' })),
      unit: Type.String({ description: 'Cel, RPM, %, W, V, A… as the driver reports it' }),
      health: Type.Optional(Lit(SENSOR_HEALTH)),
    }),
  ),
  readAt: Type.String({
    format: 'date-time',
    description: 'When the region read the BMC; requests within a few seconds share one read',
  }),
});
