/**
 * etcd backups of a cluster over HTTP (src/engine/cluster/backups.ts, backup-restore.ts):
 * list them, take one now (202: it runs in the background; follow it with GET), and restore one
 * — admin only, on the cluster's timeline with who asked; 202 with the restore's durable
 * operation, followed with GET …/restore until it ends; rotate the S3 keys of `target: region-s3` (admin only, the keys
 * never answered: backup-s3-rotate.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Backup } from '../../core/backup.ts';
import { OperationKind } from '../../core/operation.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { restoreView, startRestore } from '../../engine/cluster/backup-restore.ts';
import { rotateBackupS3Keys } from '../../engine/cluster/backup-s3-rotate.ts';
import type { BackupService } from '../../engine/cluster/backups.ts';
import type { Store } from '../../store/store.ts';
import { actorOf } from '../auth.ts';
import {
  BackupList,
  BackupResult,
  ClusterBackupParams,
  ClusterNameParams,
  errorResponses,
  RestoreResultT,
  S3KeysBody,
  S3KeysResult,
} from '../schemas/index.ts';

const tags = ['clusters'];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentBackup(b: Backup, cluster: string) {
  return {
    id: b.id,
    cluster,
    trigger: b.trigger,
    state: b.state,
    reason: b.reason,
    createdAt: new Date(b.createdAt).toISOString(),
    takenAt: iso(b.takenAt),
    slot: iso(b.slot),
    node: b.node,
    sizeBytes: b.sizeBytes,
    sha256: b.sha256,
    location: b.location,
    revision: b.revision,
    totalKeys: b.totalKeys,
  };
}

export function clusterBackupRoutes(store: Store, backups: BackupService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/clusters/:name/backups', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'The cluster’s etcd backups, newest first (removed ones left out)',
        params: ClusterNameParams,
        response: { 200: BackupList, ...errorResponses },
      },
      handler: async (req) => {
        const { cluster, backups: list } = await backups.list(req.params.name);
        return { items: list.map((b) => presentBackup(b, cluster.name)) };
      },
    });

    app.get('/clusters/:name/backups/:backup', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary: 'One etcd backup of the cluster',
        params: ClusterBackupParams,
        response: { 200: BackupResult, ...errorResponses },
      },
      handler: async (req) => {
        const { cluster, backup } = await backups.get(req.params.name, req.params.backup);
        return { backup: presentBackup(backup, cluster.name) };
      },
    });

    app.post('/clusters/:name/backups', {
      config: { role: 'operator' },
      schema: {
        tags,
        summary:
          'Take an etcd snapshot on a control plane now, into the artifact store (202; follow it with GET)',
        params: ClusterNameParams,
        response: { 202: BackupResult, ...errorResponses },
      },
      handler: async (req, reply) => {
        const b = await backups.create(req.params.name, actorOf(req));
        const c = await store.getCluster(b.clusterId);
        return reply.code(202).send({ backup: presentBackup(b, c.name) });
      },
    });

    app.post('/clusters/:name/backups/:backup/restore', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary:
          'Restore the cluster’s etcd from the backup on every control plane (everything written since is lost): a durable operation (202; follow it with GET …/restore); 409 while another operation or restore runs',
        params: ClusterBackupParams,
        response: { 202: RestoreResultT, ...errorResponses },
      },
      handler: async (req, reply) => {
        const { operation } = await startRestore(
          { store, backups },
          req.params.name,
          req.params.backup,
          actorOf(req),
        );
        return reply.code(202).send(restoreView(operation));
      },
    });

    app.get('/clusters/:name/backups/:backup/restore', {
      config: { role: 'viewer' },
      schema: {
        tags,
        summary:
          'The newest restore of the cluster from the backup: its state, the last step done, and once done the kept data directories and the seconds until the API answered',
        params: ClusterBackupParams,
        response: { 200: RestoreResultT, ...errorResponses },
      },
      handler: async (req) => {
        const c = await store.getCluster(req.params.name);
        const op = (await store.listOperations(c.id, 200)).find(
          (o) => o.kind === OperationKind.Restore && o.params.backup === req.params.backup,
        );
        if (!op)
          throw new IngotError(
            ErrorCode.NotFound,
            `cluster ${c.name} has no restore of backup ${req.params.backup}; \`ingot cluster backup restore ${c.name} ${req.params.backup}\` starts one`,
            { details: { cluster: c.name, backup: req.params.backup } },
          );
        return restoreView(op);
      },
    });

    app.put('/clusters/:name/backups/s3-keys', {
      config: { role: 'admin' },
      schema: {
        tags,
        summary:
          'Rotate the S3 keys of the cluster’s backups (target: region-s3): tried against its bucket, then sealed in place of the old ones; never answered',
        params: ClusterNameParams,
        body: S3KeysBody,
        response: { 200: S3KeysResult, ...errorResponses },
      },
      handler: async (req) => rotateBackupS3Keys({ store, backups }, req.params.name, req.body, actorOf(req)),
    });
  };
}
