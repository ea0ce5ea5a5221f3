/**
 * A cluster's backup S3 keys (`target: region-s3`, docs/day2.md "S3"): sealed at create from
 * the Cluster file's secret references, current as the cluster's rotated ones once an admin
 * gave new ones (backup-s3-rotate.ts), and the S3 target built from them.
 */
import { BACKUP_S3_KEYS, type BackupS3Keys } from '../../core/backup.ts';
import type { Cluster } from '../../core/cluster.ts';
import { ClusterWorkflow } from '../../core/cluster-lifecycle.ts';
import type { Backups } from '../../cluster/spec/types.ts';
import type { Store } from '../../store/store.ts';
import { S3Target } from './backup-s3.ts';

/** The `regionS3` of a Cluster file's etcd backups. */
export type RegionS3 = NonNullable<NonNullable<Backups['etcd']>['regionS3']>;

/**
 * Seals the access and secret key of a Cluster file's `target: region-s3` (resolved from its
 * SecretRefs) in the store, encrypted like the BMC passwords; answers the secret's id for the
 * create job's params (`backupS3Secret`), or null when the cluster has no such target.
 */
export async function sealBackupS3Keys(
  store: Store,
  b: Backups['etcd'],
  secrets: ReadonlyMap<string, string>,
): Promise<string | null> {
  if (b?.target !== 'region-s3' || !b.regionS3 || b.s3) return null;
  const keys: BackupS3Keys = {
    accessKey: secrets.get(b.regionS3.accessKey.secret) ?? '',
    secretKey: secrets.get(b.regionS3.secretKey.secret) ?? '',
  };
  return store.putSecret(BACKUP_S3_KEYS, JSON.stringify(keys));
}

/**
 * The secret id of the cluster's current S3 keys: the rotated ones (the cluster's), else those
 * sealed at create (the create job's `backupS3Secret`), else null.
 */
export async function currentS3Secret(store: Store, c: Cluster): Promise<string | null> {
  const rotated = await store.clusterBackupS3Secret(c.id);
  if (rotated) return rotated;
  const jobs = await store.listJobs({ clusterId: c.id }, 200);
  const sealed = jobs.find((j) => j.kind === ClusterWorkflow.Create && j.params.backupS3Secret)?.params
    .backupS3Secret;
  return typeof sealed === 'string' ? sealed : null;
}

/** The S3 target of a Cluster file's `regionS3` with `keys`. */
export function s3TargetOf(s3: RegionS3, keys: BackupS3Keys, artifactsDir: string): S3Target {
  return new S3Target({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    prefix: s3.prefix,
    accessKey: keys.accessKey,
    secretKey: keys.secretKey,
    artifactsDir,
  });
}
