/**
 * etcd backups of a cluster (docs/day2.md "Backups"): the record the store keeps, and the two
 * decisions the region's backup scheduler makes — which schedule slot is due, and which backups
 * retention removes. Pure: no I/O.
 */
import { type Cron, dueSlot } from './cron.ts';

export const BackupState = {
  /** Recorded; no region has started it yet (or the one that had stopped heartbeating). */
  Pending: 'pending',
  Running: 'running',
  Done: 'done',
  Failed: 'failed',
  /** Removed by retention (or by hand): the record stays for the timeline, the file is gone. */
  Deleted: 'deleted',
} as const;
export type BackupState = (typeof BackupState)[keyof typeof BackupState];
export const BACKUP_STATES: readonly BackupState[] = Object.values(BackupState);

export const BackupTrigger = {
  Manual: 'manual',
  Schedule: 'schedule',
} as const;
export type BackupTrigger = (typeof BackupTrigger)[keyof typeof BackupTrigger];
export const BACKUP_TRIGGERS: readonly BackupTrigger[] = Object.values(BackupTrigger);

/** The secrets-table purpose of a cluster's backup S3 keys (`target: region-s3`): `{ accessKey, secretKey }` as JSON. */
export const BACKUP_S3_KEYS = 'cluster-backup-s3';

/** A cluster's backup S3 keys, as sealed. */
export interface BackupS3Keys {
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface Backup {
  readonly id: string;
  readonly clusterId: string;
  readonly trigger: BackupTrigger;
  /** The schedule slot it was taken for (ms; scheduled backups only): one per cluster and slot. */
  readonly slot: number | null;
  readonly state: BackupState;
  readonly reason: string;
  /** When it was asked for; `takenAt` when etcd wrote the snapshot. */
  readonly createdAt: number;
  readonly takenAt: number | null;
  /** The control plane it was taken on. */
  readonly node: string | null;
  readonly sizeBytes: number | null;
  readonly sha256: string | null;
  /** Where the file is: an artifact store path (`etcd-snapshots/<cluster>/<id>.db`) or an s3:// URL. */
  readonly location: string | null;
  /** etcd's own view of the file (`etcdctl snapshot status`). */
  readonly revision: number | null;
  readonly totalKeys: number | null;
}

/** The Cluster file's retention: keep the newest `keep` good backups, none older than `maxAgeDays`. */
export interface RetentionPolicy {
  readonly keep: number;
  /** 0: no age limit. */
  readonly maxAgeDays: number;
}

const DAY = 86_400_000;

/**
 * The backups retention removes: good (`done`) backups past the newest `keep`, or older than
 * `maxAgeDays` — but never the newest good one, whatever its age (a cluster whose schedule
 * stopped must still have something to restore). Failed backups have no file and are left to
 * the timeline. Oldest first.
 */
export function retentionVictims(backups: readonly Backup[], p: RetentionPolicy, now: number): Backup[] {
  const good = backups
    .filter((b) => b.state === BackupState.Done)
    .sort((a, b) => (b.takenAt ?? b.createdAt) - (a.takenAt ?? a.createdAt) || b.id.localeCompare(a.id));
  return good
    .filter(
      (b, i) =>
        i > 0 && (i >= p.keep || (p.maxAgeDays > 0 && now - (b.takenAt ?? b.createdAt) > p.maxAgeDays * DAY)),
    )
    .reverse();
}

/** How far back a scheduler looks for a missed slot: older ones are not made up. */
export const MISSED_SLOT_WINDOW_MS = 7 * DAY;

/**
 * The slot a scheduled backup is due for now, or null: the newest slot after the last scheduled
 * backup's (or after the cluster was created) and no older than the missed-slot window.
 */
export function dueBackupSlot(
  c: Cron,
  o: { lastSlot: number | null; clusterCreatedAt: number; now: number },
): number | null {
  const since = Math.max(o.lastSlot ?? o.clusterCreatedAt, o.now - MISSED_SLOT_WINDOW_MS);
  return dueSlot(c, since, o.now);
}

/** A backup's file name in the artifact store, relative to the artifacts dir. */
export function backupArtifact(cluster: string, id: string): string {
  return `etcd-snapshots/${cluster}/${id}.db`;
}
