/** Clusters: planning (`POST /clusters/plan`) and clusters as living objects (src/api/routes/clusters.ts). */
import { type Static, Type } from 'typebox';
import { Role } from '../../cluster/plan/types.ts';
import { WIPE_MODES } from '../../core/action-params.ts';
import { MEMBER_ROLES } from '../../core/cluster.ts';
import { CLUSTER_ACTIONS, CLUSTER_STATES } from '../../core/cluster-lifecycle.ts';
import { Lit, MAX, Nullable } from './common.ts';
import { DisksT, MachineStateT, NicT } from './machines.ts';

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

// --- clusters as living objects: /clusters, /clusters/{name}… ---------------------------------

export const CreateClusterBody = Type.Object(
  {
    cluster: Type.String({
      minLength: 1,
      maxLength: CLUSTER_FILE_MAX,
      description: 'The Cluster file as YAML text (docs/cluster.md), at most 1 MiB',
    }),
    image: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX.label,
        description:
          'The OS image the nodes are deployed with (a kubernetes-node image); default: the only ready OS image',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateClusterBody = Static<typeof CreateClusterBody>;

export const ClusterNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The cluster’s name or id' }),
});

export const ListClustersQuery = Type.Object(
  { all: Type.Optional(Type.Boolean({ description: 'Include deleted clusters' })) },
  { additionalProperties: false },
);

export const DeleteClusterQuery = Type.Object(
  { wipe: Type.Optional(Lit(WIPE_MODES, 'How the released machines’ disks are wiped (default: quick)')) },
  { additionalProperties: false },
);

export const ClusterActionParams = Type.Object({
  name: ClusterNameParams.properties.name,
  action: Lit(['retry'] as const),
});

const ClusterMemberT = Type.Object({
  machineId: Type.String(),
  hostname: Type.String(),
  role: Lit(MEMBER_ROLES),
  order: Type.Integer({ description: 'Bootstrap order: the init node 0' }),
  address: Type.String({ description: 'The planned node address with prefix' }),
  state: Type.Optional(MachineStateT),
  stateReason: Type.Optional(Type.String({ description: 'Where the machine is, and why' })),
});

const ClusterConditionsT = Type.Object(
  {
    checkedAt: Type.String({ format: 'date-time' }),
    apiReachable: Type.Boolean(),
    apiError: Nullable(Type.String()),
    etcd: Nullable(Type.Object({ healthy: Type.Integer(), members: Type.Integer(), quorum: Type.Boolean() })),
    nodes: Nullable(Type.Object({ ready: Type.Integer(), total: Type.Integer() })),
    certificatesExpireAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'What the region last read from the cluster’s API' },
);

export const ClusterT = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: Lit(CLUSTER_STATES),
    stateReason: Type.String(),
    stateEnteredAt: Type.String({ format: 'date-time' }),
    distribution: Type.String(),
    version: Type.String(),
    endpoint: Type.String(),
    members: Type.Array(ClusterMemberT),
    conditions: Nullable(ClusterConditionsT),
    hasKubeconfig: Type.Boolean({ description: 'The init node returned the admin kubeconfig' }),
    allowedActions: Type.Array(Lit(CLUSTER_ACTIONS)),
    clusterFile: Type.Optional(
      Type.String({ description: 'The Cluster file as submitted (GET of one cluster)' }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Cluster' },
);

export const ClusterJobResult = Type.Object({ cluster: Type.Ref('Cluster'), job: Nullable(Type.Ref('Job')) });

export const ClusterDetail = Type.Object({
  cluster: Type.Ref('Cluster'),
  job: Nullable(Type.Ref('Job')),
});

export const KubeconfigResult = Type.Object({
  kubeconfig: Type.String({ description: 'The cluster’s admin kubeconfig (a secret: store it 0600)' }),
});
