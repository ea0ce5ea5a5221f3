/**
 * Rotating a cluster's backup S3 keys (docs/day2.md "S3"): an admin gives the new access and
 * secret key; they are tried against the cluster's bucket first (a list of its prefix), so keys
 * the server refuses change nothing; then sealed (AES-256-GCM, secrets table) in place of the
 * old ones, which are deleted, with `cluster.backup.s3-keys-rotated` on the cluster's timeline
 * naming who — never the keys. The next backup, retention and restore use the new keys.
 */
import { BACKUP_S3_KEYS, type BackupS3Keys } from '../../core/backup.ts';
import { ErrorCode, IngotError, invalid, isIngotError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { currentS3Secret, s3TargetOf } from './backup-s3-keys.ts';
import { type BackupService, regionBackups } from './backups.ts';

export const S3_KEYS_ROTATED_EVENT = 'cluster.backup.s3-keys-rotated';

export interface S3KeysRotation {
  cluster: string;
  bucket: string;
  endpoint: string;
  rotatedAt: string;
}

/** Printable ASCII without spaces, as S3 keys are; the value itself never goes in the message. */
function checkKey(field: keyof BackupS3Keys, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid(field, 'is required (a non-empty string)');
  if (v.length > max) throw invalid(field, `is ${v.length} characters long; at most ${max}`);
  if (!/^[\x21-\x7e]+$/.test(v))
    throw invalid(field, 'may hold printable ASCII only, no spaces (was it pasted with a newline?)');
  return v;
}

export async function rotateBackupS3Keys(
  d: { store: Store; backups: BackupService },
  name: string,
  given: { accessKey?: unknown; secretKey?: unknown },
  actor: string,
): Promise<S3KeysRotation> {
  const keys: BackupS3Keys = {
    accessKey: checkKey('accessKey', given.accessKey, 128),
    secretKey: checkKey('secretKey', given.secretKey, 256),
  };
  const c = await d.store.getCluster(name);
  const b = regionBackups(c);
  if (b?.target !== 'region-s3' || !b.regionS3)
    throw new IngotError(
      ErrorCode.Conflict,
      `cluster ${c.name}'s backups are not kept in S3 by the region (its Cluster file has no spec.backups.etcd.target: region-s3): it has no S3 keys to rotate`,
      { details: { cluster: c.name } },
    );
  const s3 = b.regionS3;
  const probe = s3TargetOf(s3, keys, d.backups.artifactsDir);
  try {
    await probe.list(c.name);
  } catch (e) {
    throw new IngotError(
      ErrorCode.Validation,
      `accessKey: the new keys were refused by bucket ${s3.bucket} at ${s3.endpoint} (${isIngotError(e) ? e.message : 'no answer'}); the keys in use are unchanged`,
      { details: { field: 'accessKey', bucket: s3.bucket } },
    );
  } finally {
    probe.destroy();
  }
  const replaces = await currentS3Secret(d.store, c);
  const now = Date.now();
  await d.store.setClusterBackupS3Keys(c.id, JSON.stringify(keys), replaces, [
    {
      type: S3_KEYS_ROTATED_EVENT,
      clusterId: c.id,
      actor,
      message: `the S3 keys of ${c.name}'s backups (bucket ${s3.bucket} at ${s3.endpoint}) were rotated by ${actor}: the new ones answered a list of the bucket; the old ones are deleted from the store`,
      data: { bucket: s3.bucket, endpoint: s3.endpoint, sealedAs: BACKUP_S3_KEYS },
    },
  ]);
  d.backups.forgetS3(c.id);
  return {
    cluster: c.name,
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    rotatedAt: new Date(now).toISOString(),
  };
}
