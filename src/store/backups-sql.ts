/**
 * etcd backups (migration 14, src/core/backup.ts): the record of each snapshot of a cluster.
 * A scheduled backup is inserted once per cluster and slot (`UNIQUE (cluster_id, slot)`: of two
 * regions that both find the slot due, one inserts it); a region runs a backup under a lease
 * (claim by compare-and-set, heartbeat, fenced end), so a region that dies mid-backup leaves it
 * to another once the lease expires. Every change writes its events in the same transaction.
 */
import { type Backup, BackupState, type BackupTrigger } from '../core/backup.ts';
import type { NewEvent } from '../core/event.ts';
import type { Db, Row } from './db.ts';
import { newId } from './ids.ts';
import { insertEvents, placeholders } from './sql-util.ts';

export interface NewBackup {
  readonly clusterId: string;
  readonly trigger: BackupTrigger;
  readonly slot: number | null;
  readonly reason: string;
}

/** What a backup's end (or a retention delete) records. */
export interface BackupPatch {
  readonly state: BackupState;
  readonly reason: string;
  readonly takenAt?: number;
  readonly node?: string;
  readonly sizeBytes?: number;
  readonly sha256?: string;
  readonly location?: string;
  readonly revision?: number;
  readonly totalKeys?: number;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function backupFromRow(r: Row): Backup {
  return {
    id: r.id as string,
    clusterId: r.cluster_id as string,
    trigger: r.trigger_kind as BackupTrigger,
    slot: n(r.slot),
    state: r.state as BackupState,
    reason: r.reason as string,
    createdAt: Number(r.created_at),
    takenAt: n(r.taken_at),
    node: (r.node as string | null) ?? null,
    sizeBytes: n(r.size_bytes),
    sha256: (r.sha256 as string | null) ?? null,
    location: (r.location as string | null) ?? null,
    revision: n(r.revision),
    totalKeys: n(r.total_keys),
  };
}

/**
 * Records a backup to be taken, with its events (the backup's id is in each event's data as
 * `backup`). A scheduled one whose cluster and slot already have a backup inserts nothing: null.
 */
export async function insertBackup(
  db: Db,
  b: NewBackup,
  events: (id: string) => NewEvent[],
  now = Date.now(),
): Promise<Backup | null> {
  const id = newId('bk', now);
  return db.tx(async (t) => {
    const rows = await t.query(
      `INSERT INTO backups (id, cluster_id, trigger_kind, slot, state, reason, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cluster_id, slot) DO NOTHING RETURNING *`,
      [id, b.clusterId, b.trigger, b.slot, BackupState.Pending, b.reason, now],
    );
    if (rows.length === 0) return null;
    await insertEvents(t, events(id), now);
    return backupFromRow(rows[0]);
  });
}

export async function getBackup(db: Db, id: string): Promise<Backup | null> {
  const rows = await db.query('SELECT * FROM backups WHERE id = ?', [id]);
  return rows[0] ? backupFromRow(rows[0]) : null;
}

/** A cluster's backups, newest first (deleted ones only when asked). */
export async function listBackups(
  db: Db,
  clusterId: string,
  o: { limit?: number; includeDeleted?: boolean } = {},
): Promise<Backup[]> {
  const rows = await db.query(
    `SELECT * FROM backups WHERE cluster_id = ? ${o.includeDeleted ? '' : 'AND state <> ?'}
     ORDER BY created_at DESC, id DESC LIMIT ?`,
    o.includeDeleted ? [clusterId, o.limit ?? 1000] : [clusterId, BackupState.Deleted, o.limit ?? 1000],
  );
  return rows.map(backupFromRow);
}

/** The newest schedule slot a cluster has a backup for (whatever became of it), or null. */
export async function lastBackupSlot(db: Db, clusterId: string): Promise<number | null> {
  const rows = await db.query('SELECT MAX(slot) AS slot FROM backups WHERE cluster_id = ?', [clusterId]);
  return n(rows[0]?.slot);
}

/**
 * Claims backups to run: pending ones, and running ones whose lease expired (their region
 * stopped). Compare-and-set on the lease, so of two regions each backup goes to one.
 */
export async function claimBackups(
  db: Db,
  owner: string,
  leaseMs: number,
  now = Date.now(),
): Promise<Backup[]> {
  const rows = await db.query(
    `UPDATE backups SET state = ?, lease_owner = ?, lease_expires_at = ?
     WHERE state = ? OR (state = ? AND (lease_expires_at IS NULL OR lease_expires_at < ?))
     RETURNING *`,
    [BackupState.Running, owner, now + leaseMs, BackupState.Pending, BackupState.Running, now],
  );
  return rows.map(backupFromRow);
}

/** Extends the leases `owner` holds; returns how many it still holds. */
export function heartbeatBackups(db: Db, owner: string, leaseMs: number, now = Date.now()): Promise<number> {
  return db.run('UPDATE backups SET lease_expires_at = ? WHERE lease_owner = ? AND state = ?', [
    now + leaseMs,
    owner,
    BackupState.Running,
  ]);
}

/**
 * Ends a backup `owner` runs (fenced on its lease: false, and nothing written, when another
 * region took it over), with its events.
 */
export async function finishBackup(
  db: Db,
  id: string,
  owner: string,
  p: BackupPatch,
  events: NewEvent[],
  now = Date.now(),
): Promise<boolean> {
  return db.tx(async (t) => {
    const changed = await t.run(
      `UPDATE backups SET state = ?, reason = ?, taken_at = ?, node = ?, size_bytes = ?, sha256 = ?,
         location = ?, revision = ?, total_keys = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? AND lease_owner = ? AND state = ?`,
      [
        p.state,
        p.reason,
        p.takenAt ?? null,
        p.node ?? null,
        p.sizeBytes ?? null,
        p.sha256 ?? null,
        p.location ?? null,
        p.revision ?? null,
        p.totalKeys ?? null,
        id,
        owner,
        BackupState.Running,
      ],
    );
    if (changed === 0) return false;
    await insertEvents(t, events, now);
    return true;
  });
}

/** Marks finished backups deleted (retention removed their files), with the events. Returns the ids changed. */
export async function markBackupsDeleted(
  db: Db,
  ids: readonly string[],
  reason: string,
  events: NewEvent[],
  now = Date.now(),
): Promise<string[]> {
  if (ids.length === 0) return [];
  return db.tx(async (t) => {
    const rows = await t.query(
      `UPDATE backups SET state = ?, reason = ? WHERE id IN (${placeholders(ids.length)}) AND state = ? RETURNING id`,
      [BackupState.Deleted, reason, ...ids, BackupState.Done],
    );
    if (rows.length > 0) await insertEvents(t, events, now);
    return rows.map((r) => r.id as string);
  });
}

/** The backups table as the store exposes it (`store.backups`). */
export interface BackupStore {
  insert(b: NewBackup, events: (id: string) => NewEvent[], now?: number): Promise<Backup | null>;
  get(id: string): Promise<Backup | null>;
  list(clusterId: string, o?: { limit?: number; includeDeleted?: boolean }): Promise<Backup[]>;
  lastSlot(clusterId: string): Promise<number | null>;
  claim(owner: string, leaseMs: number, now?: number): Promise<Backup[]>;
  heartbeat(owner: string, leaseMs: number, now?: number): Promise<number>;
  finish(id: string, owner: string, p: BackupPatch, events: NewEvent[], now?: number): Promise<boolean>;
  markDeleted(ids: readonly string[], reason: string, events: NewEvent[], now?: number): Promise<string[]>;
}

export function backupStore(db: Db): BackupStore {
  return {
    insert: (b, events, now) => insertBackup(db, b, events, now),
    get: (id) => getBackup(db, id),
    list: (clusterId, o) => listBackups(db, clusterId, o),
    lastSlot: (clusterId) => lastBackupSlot(db, clusterId),
    claim: (owner, leaseMs, now) => claimBackups(db, owner, leaseMs, now),
    heartbeat: (owner, leaseMs, now) => heartbeatBackups(db, owner, leaseMs, now),
    finish: (id, owner, p, events, now) => finishBackup(db, id, owner, p, events, now),
    markDeleted: (ids, reason, events, now) => markBackupsDeleted(db, ids, reason, events, now),
  };
}
