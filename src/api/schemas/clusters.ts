/** Cluster planning: `POST /clusters/plan` (src/api/routes/clusters.ts). */
import { type Static, Type } from 'typebox';
import { Role } from '../../cluster/plan/types.ts';
import { Lit, Nullable } from './common.ts';
import { DisksT, NicT } from './machines.ts';

const NODE_ROLES = Object.values(Role);

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
  role: Lit(NODE_ROLES),
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
  disks: DisksT,
  labels: Type.Record(Type.String(), Type.String()),
  taints: Type.Array(
    Type.Object({ key: Type.String(), value: Type.Optional(Type.String()), effect: Type.String() }),
  ),
});

export const WhatIfRowT = Type.Object(
  {
    domain: Lit(['zone', 'rack'] as const),
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
