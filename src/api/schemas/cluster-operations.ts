/** A cluster's day-2 operations (src/api/routes/cluster-operations.ts, core/operation.ts). */
import { Type } from 'typebox';
import { RESTORE_STEPS } from '../../core/etcd-restore.ts';
import { RestoreNodesSchema } from './cluster-backups.ts';
import { OPERATION_CONTROLS, OPERATION_KINDS, OPERATION_STATES } from '../../core/operation.ts';
import { CLUSTER_FILE_MAX } from './clusters.ts';
import { MAX } from './common.ts';

const str = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

/** Workers at once: a count or a percentage. */
const maxUnavailable = (description: string) =>
  Type.Optional(
    Type.Union(
      [Type.Integer({ minimum: 1, maximum: 1000 }), Type.String({ pattern: '^[0-9]{1,3}%$', maxLength: 4 })],
      { description },
    ),
  );

export const OperationControlParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The cluster’s name or id' }),
  control: str(OPERATION_CONTROLS),
});

export const OperationParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The cluster’s name or id' }),
  id: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The operation’s id' }),
});

export const ReconfigureBody = Type.Object(
  {
    cluster: Type.String({
      minLength: 1,
      maxLength: CLUSTER_FILE_MAX,
      description:
        'The changed Cluster file (YAML or JSON); today a reconfigure rolls `spec.apiServer.extraArgs` (kube-apiserver flags)',
    }),
    maxUnavailable: maxUnavailable('Workers drained at once: a count or a percentage (default 1)'),
  },
  { additionalProperties: false },
);

export const UpgradeBody = Type.Object(
  {
    version: Type.String({
      pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+$',
      maxLength: 32,
      description: 'The target Kubernetes version, `v1.21.3`: the current minor or the next one',
    }),
    maxUnavailable: maxUnavailable('Workers upgraded at once: a count or a percentage (default 1)'),
  },
  { additionalProperties: false },
);

export const OsReplaceBody = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      maxLength: MAX.label,
      description:
        'The OS image each node is redeployed with: a ready OS image of the region (`ingot image ls`)',
    }),
    maxUnavailable: maxUnavailable('Workers replaced at once: a count or a percentage (default 1)'),
    nodes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX.label }), {
        minItems: 1,
        maxItems: 10_000,
        description:
          'The nodes to replace (hostnames); default every worker. Control planes (a kubeadm cluster with stacked etcd and 3 or more) go first, one at a time; others are refused',
      }),
    ),
  },
  { additionalProperties: false },
);

const NodeProgress = Type.Object({
  hostname: Type.String(),
  machineId: Type.String(),
  role: Type.String(),
  domain: Type.String(),
  state: str(['pending', 'running', 'done', 'failed'] as const),
  step: Type.Union([Type.String(), Type.Null()], { description: 'The last sub-step the node finished' }),
  message: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
});

export const ClusterOperationSchema = Type.Object(
  {
    id: Type.String(),
    clusterId: Type.String(),
    cluster: Type.String(),
    kind: str(OPERATION_KINDS),
    state: str(OPERATION_STATES),
    reason: Type.String({
      description: 'Why it is in its state: who paused it, the node and reason it halted on',
    }),
    params: Type.Object({
      changes: Type.Array(
        Type.Object({
          flag: Type.String(),
          from: Type.Union([Type.String(), Type.Null()]),
          to: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
      maxUnavailable: Type.Union([Type.Integer(), Type.String()]),
      target: Type.Optional(Type.String({ description: "An upgrade's target version" })),
      image: Type.Optional(Type.String({ description: "An OS replacement's image" })),
      backup: Type.Optional(Type.String({ description: "A restore's backup" })),
      node: Type.Optional(Type.String({ description: "A drain's node" })),
      timeoutSeconds: Type.Optional(Type.Integer({ description: "A drain's timeout" })),
      force: Type.Optional(Type.Boolean({ description: 'A drain evicts pods no controller owns too' })),
      reason: Type.Optional(Type.String({ description: 'Why a drain was asked for (the hardware reason)' })),
      scale: Type.Optional(
        Type.Object(
          {
            add: Type.Array(Type.String()),
            remove: Type.Array(Type.String()),
            controlPlanes: Type.Boolean(),
          },
          {
            description:
              "A scale's (or a remediation's replacement's) nodes added and removed; a control-plane scale cannot be aborted",
          },
        ),
      ),
    }),
    progress: Type.Object({
      snapshot: Type.Object({
        state: str(['pending', 'done', 'skipped'] as const),
        id: Type.Optional(Type.String()),
        node: Type.Optional(Type.String()),
        note: Type.Optional(Type.String()),
      }),
      nodes: Type.Array(NodeProgress),
      restore: Type.Optional(
        Type.Object(
          {
            step: str(RESTORE_STEPS),
            members: Type.Array(
              Type.Object({
                node: Type.String(),
                name: Type.String(),
                peerUrl: Type.String(),
                dataDir: Type.String(),
              }),
            ),
            startedAt: Type.String(),
            stepAt: Type.Optional(Type.String()),
            runner: Type.Union([Type.String(), Type.Null()], {
              description: 'The region worker that ran the last step',
            }),
            keptDataDirs: Type.Array(Type.String()),
            apiAfterSeconds: Type.Union([Type.Number(), Type.Null()]),
            startedAgainAt: Type.Optional(Type.String()),
            nodes: Type.Optional(Type.Union([RestoreNodesSchema, Type.Null()])),
            nodesAfterSeconds: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
            rolledBack: Type.Optional(Type.Boolean()),
          },
          { description: "A restore's procedure: the last step done, the members, the result" },
        ),
      ),
      drain: Type.Optional(
        Type.Object(
          {
            runner: Type.Union([Type.String(), Type.Null()], {
              description: 'The region worker that runs it',
            }),
            startedAt: Type.String({ description: 'Its timeout counts from here' }),
            attempts: Type.Integer(),
            waiting: Type.Union([Type.String(), Type.Null()], {
              description: 'Why it waits now (`blocked by PDB ns/name`)',
            }),
            pdb: Type.Union([Type.String(), Type.Null()]),
            evicted: Type.Array(Type.String()),
            kept: Type.Array(Type.String()),
          },
          { description: "A drain's attempts and result" },
        ),
      ),
    }),
    jobId: Type.Union([Type.String(), Type.Null()]),
    actor: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ClusterOperation' },
);

export const ClusterOperationList = Type.Array(Type.Ref('ClusterOperation'));
