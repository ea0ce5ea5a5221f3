/**
 * A cluster's backup S3 keys (`target: region-s3`, docs/day2.md "S3"): sealed in the secrets
 * table like BMC passwords; `clusters.backup_s3_secret_id` names the current ones once they have
 * been rotated (before, the create job's `backupS3Secret` does). A rotation seals the new keys,
 * points the cluster at them, deletes the keys they replace and records the event: all or nothing.
 */
import { BACKUP_S3_KEYS } from '../core/backup.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { NewEvent } from '../core/event.ts';
import type { Db } from './db.ts';
import type { SealFn } from './machines-sql.ts';
import { insertEvents } from './sql-util.ts';

/** The secret id of the cluster's rotated S3 keys, or null when none were rotated. */
export async function clusterBackupS3Secret(db: Db, clusterId: string): Promise<string | null> {
  const rows = await db.query<{ backup_s3_secret_id: string | null }>(
    'SELECT backup_s3_secret_id FROM clusters WHERE id = ?',
    [clusterId],
  );
  return rows[0]?.backup_s3_secret_id ?? null;
}

/**
 * Seals `plaintext` as the cluster's S3 keys and deletes `replaces` (the secret they replace,
 * when the caller knows one) and any earlier rotated keys; the new secret's id.
 */
export async function setClusterBackupS3Keys(
  db: Db,
  seal: SealFn,
  clusterId: string,
  plaintext: string,
  replaces: string | null,
  events: readonly NewEvent[],
  now = Date.now(),
): Promise<string> {
  return db.tx(async (t) => {
    const old = await t.query<{ backup_s3_secret_id: string | null }>(
      'SELECT backup_s3_secret_id FROM clusters WHERE id = ?',
      [clusterId],
    );
    if (old.length === 0)
      throw new IngotError(ErrorCode.NotFound, `cluster ${clusterId} does not exist`, {
        details: { cluster: clusterId },
      });
    const id = await seal(t, BACKUP_S3_KEYS, plaintext);
    await t.run('UPDATE clusters SET backup_s3_secret_id = ?, updated_at = ? WHERE id = ?', [
      id,
      now,
      clusterId,
    ]);
    for (const gone of new Set([old[0].backup_s3_secret_id, replaces]))
      if (gone && gone !== id) await t.run('DELETE FROM secrets WHERE id = ?', [gone]);
    await insertEvents(t, events, now);
    return id;
  });
}
