/**
 * Migration 16 (issue 16, S3 keys per cluster): the secret holding a cluster's current backup
 * S3 keys (`target: region-s3`). Set when an admin rotates them (src/store/backup-s3-keys-sql.ts);
 * NULL means the keys sealed at create (the create job's `backupS3Secret`) are still current.
 * Its own file only to keep migrations.ts short.
 */
import type { Migration } from './migrations.ts';

export const BACKUP_S3_MIGRATION: Migration = {
  version: 16,
  name: 'cluster backup S3 keys',
  sql: `
ALTER TABLE clusters ADD COLUMN backup_s3_secret_id TEXT;
`,
};
