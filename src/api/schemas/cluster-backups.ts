/** etcd backups of a cluster (src/api/routes/cluster-backups.ts). */
import { Type } from 'typebox';
import { BACKUP_STATES, BACKUP_TRIGGERS } from '../../core/backup.ts';
import { RESTORE_STEPS } from '../../core/etcd-restore.ts';

/** A restore's nodes once done: back = its kubelet heard on the restored data and its Node Ready. */
export const RestoreNodesSchema = Type.Object(
  {
    back: Type.Integer({ minimum: 0 }),
    total: Type.Integer({ minimum: 0 }),
    notBack: Type.Array(Type.String(), { description: 'The nodes not back when the wait ended' }),
  },
  {
    description:
      "The nodes back on the restored data: each kubelet's lease renewed after the restart, and its Node Ready",
  },
);
import { OPERATION_STATES } from '../../core/operation.ts';
import { MAX, Nullable } from './common.ts';

export const ClusterBackupParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The cluster’s name or id' }),
  backup: Type.String({ minLength: 1, maxLength: MAX.id, description: 'The backup’s id (`bk-…`)' }),
});

export const BackupT = Type.Object(
  {
    id: Type.String(),
    cluster: Type.String({ description: 'The cluster’s name' }),
    trigger: Type.Union(BACKUP_TRIGGERS.map((t) => Type.Literal(t))),
    state: Type.Union(BACKUP_STATES.map((s) => Type.Literal(s))),
    reason: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    takenAt: Nullable(Type.String({ format: 'date-time' })),
    slot: Nullable(
      Type.String({ format: 'date-time', description: 'The schedule slot (scheduled backups)' }),
    ),
    node: Nullable(Type.String({ description: 'The control plane it was taken on' })),
    sizeBytes: Nullable(Type.Integer()),
    sha256: Nullable(Type.String()),
    location: Nullable(
      Type.String({ description: 'Artifact store path (under the artifacts dir) or s3:// URL' }),
    ),
    revision: Nullable(Type.Integer({ description: 'etcd revision of the snapshot' })),
    totalKeys: Nullable(Type.Integer()),
  },
  { $id: 'Backup' },
);

export const BackupList = Type.Object({ items: Type.Array(Type.Ref('Backup')) });
export const BackupResult = Type.Object({ backup: Type.Ref('Backup') });

export const RestoreResultT = Type.Object({
  operation: Type.String({
    description: 'The restore’s operation (also listed by GET /clusters/{name}/operations)',
  }),
  state: Type.String({
    description: `The operation's state (${OPERATION_STATES.join(', ')}): running until it ends, succeeded or failed with the reason`,
  }),
  reason: Type.String({
    description: 'Why it is in its state (a failure: the step, what is left, what to do)',
  }),
  backup: Type.String(),
  controlPlanes: Type.Array(Type.String()),
  step: Type.String({ description: `The last step of the procedure done: ${RESTORE_STEPS.join(' → ')}` }),
  keptDataDirs: Type.Array(Type.String(), {
    description: 'The old etcd data directories, kept (`node:path`), once swapped',
  }),
  apiAfterSeconds: Nullable(Type.Number({ description: 'Seconds until the API answered again, once done' })),
  nodes: Nullable(RestoreNodesSchema),
  nodesAfterSeconds: Nullable(
    Type.Number({
      description: 'Seconds from the start until every node was back, once done (null: not all were)',
    }),
  ),
  kubeletsRestarted: Nullable(
    Type.Object(
      {
        at: Type.String({ format: 'date-time' }),
        nodes: Type.Array(Type.String()),
        failed: Type.Array(Type.Object({ node: Type.String(), error: Type.String() })),
      },
      {
        description:
          'The kubelets restarted (once) on the nodes not back half-way through their wait, and the restarts that failed; null: none was needed',
      },
    ),
  ),
});

export const S3KeysBody = Type.Object(
  {
    accessKey: Type.String({ minLength: 1, maxLength: 128, description: 'The new S3 access key ID' }),
    secretKey: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'The new S3 secret key: sealed in the store, never answered or logged',
    }),
  },
  { additionalProperties: false },
);

export const S3KeysResult = Type.Object({
  cluster: Type.String(),
  bucket: Type.String(),
  endpoint: Type.String(),
  rotatedAt: Type.String({ format: 'date-time' }),
});
