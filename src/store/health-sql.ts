/**
 * Hardware health history (migration 10): one row per BMC poll per machine (health_samples)
 * and one per SMART report per disk (disk_health). Bounded by pruneHealth, which the health
 * poller calls each round; the newest report of every disk is kept whatever its age (a disk
 * is reported at commissioning, which may be months ago).
 */
import type { DiskHealth, DiskProtocol, DiskHealthSource, HealthSample } from '../core/health.ts';
import type { Db, Row, SqlValue } from './db.ts';

/** Where a machine sits, for metric labels: what the scrape needs beside the readings. */
export interface HealthLabels {
  readonly machineId: string;
  readonly hostname: string;
  readonly zone: string;
  readonly rack: string;
  readonly pool: string;
  /** The cluster's name, '' when the machine is in none. */
  readonly cluster: string;
  /** The Kubernetes node name ('' outside a cluster): a member's hostname. */
  readonly node: string;
}

const bool = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const num = (v: SqlValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** Records one poll; false when the machine is gone or has a sample at that very ms. */
export async function recordHealthSample(db: Db, s: HealthSample): Promise<boolean> {
  const n = await db.run(
    `INSERT INTO health_samples (machine_id, at, reachable, health, error, temp_max_c, fans, fans_failed,
       psus, psus_failed, watts, sel_critical, sel_warning, readings)
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM machines WHERE id = ?)
     ON CONFLICT (machine_id, at) DO NOTHING`,
    [
      s.machineId,
      s.at,
      s.reachable ? 1 : 0,
      s.health,
      s.error,
      s.tempMaxCelsius,
      s.fans,
      s.fansFailed,
      s.psus,
      s.psusFailed,
      s.watts,
      s.selCritical,
      s.selWarning,
      JSON.stringify(s.readings),
      s.machineId,
    ],
  );
  return n > 0;
}

function sampleOf(r: Row, withReadings: boolean): HealthSample {
  return {
    machineId: r.machine_id as string,
    at: Number(r.at),
    reachable: Number(r.reachable) === 1,
    health: r.health as string,
    error: (r.error as string | null) ?? null,
    tempMaxCelsius: num(r.temp_max_c),
    fans: num(r.fans),
    fansFailed: num(r.fans_failed),
    psus: num(r.psus),
    psusFailed: num(r.psus_failed),
    watts: num(r.watts),
    selCritical: num(r.sel_critical),
    selWarning: num(r.sel_warning),
    readings: withReadings ? JSON.parse(r.readings as string) : [],
  };
}

function labelsOf(r: Row): HealthLabels {
  const cluster = (r.cluster_name as string | null) ?? '';
  return {
    machineId: r.machine_id as string,
    hostname: r.hostname as string,
    zone: r.zone as string,
    rack: r.rack as string,
    pool: r.pool as string,
    cluster,
    node: cluster ? (r.hostname as string) : '',
  };
}

/** A machine's samples at or after `since` (ms), oldest first, at most `limit` (the newest ones). */
export async function healthHistory(
  db: Db,
  machineId: string,
  since: number,
  limit: number,
): Promise<HealthSample[]> {
  const rows = await db.query(
    'SELECT * FROM health_samples WHERE machine_id = ? AND at >= ? ORDER BY at DESC LIMIT ?',
    [machineId, since, limit],
  );
  return rows.reverse().map((r) => sampleOf(r, true));
}

const MACHINE_LABELS = `JOIN machines m ON m.id = h.machine_id
  LEFT JOIN cluster_members cm ON cm.machine_id = h.machine_id
  LEFT JOIN clusters c ON c.id = cm.cluster_id`;

/** Each machine's newest sample (without its readings) with its labels: what a scrape exports. */
export async function latestHealth(db: Db): Promise<{ labels: HealthLabels; sample: HealthSample }[]> {
  const rows = await db.query(
    `SELECT h.machine_id, h.at, h.reachable, h.health, h.error, h.temp_max_c, h.fans, h.fans_failed,
        h.psus, h.psus_failed, h.watts, h.sel_critical, h.sel_warning,
        m.hostname, m.zone, m.rack, m.pool, c.name AS cluster_name
     FROM health_samples h
     JOIN (SELECT machine_id, MAX(at) AS at FROM health_samples GROUP BY machine_id) l
       ON l.machine_id = h.machine_id AND l.at = h.at
     ${MACHINE_LABELS}`,
  );
  return rows.map((r) => ({ labels: labelsOf(r), sample: sampleOf(r, false) }));
}

/** Inserts one disk report inside the caller's transaction; 0 when the machine is gone or it is there. */
export function insertDiskHealth(t: Db, d: DiskHealth): Promise<number> {
  return t.run(
    `INSERT INTO disk_health (machine_id, serial, at, device, model, protocol, passed, reallocated_sectors,
       pending_sectors, media_errors, percentage_used, temperature_c, power_on_hours, source)
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM machines WHERE id = ?)
     ON CONFLICT (machine_id, serial, at) DO NOTHING`,
    [
      d.machineId,
      d.serial,
      d.at,
      d.device,
      d.model,
      d.protocol,
      bool(d.passed),
      d.reallocatedSectors,
      d.pendingSectors,
      d.mediaErrors,
      d.percentageUsed,
      d.temperatureCelsius,
      d.powerOnHours,
      d.source,
      d.machineId,
    ],
  );
}

/** Records disk reports (one transaction); reports of a machine that is gone are dropped. */
export async function recordDiskHealth(db: Db, reports: readonly DiskHealth[]): Promise<number> {
  return db.tx(async (t) => {
    let n = 0;
    for (const d of reports) n += await insertDiskHealth(t, d);
    return n;
  });
}

function diskOf(r: Row): DiskHealth {
  return {
    machineId: r.machine_id as string,
    serial: r.serial as string,
    at: Number(r.at),
    device: r.device as string,
    model: (r.model as string | null) ?? null,
    protocol: r.protocol as DiskProtocol,
    passed: r.passed === null ? null : Number(r.passed) === 1,
    reallocatedSectors: num(r.reallocated_sectors),
    pendingSectors: num(r.pending_sectors),
    mediaErrors: num(r.media_errors),
    percentageUsed: num(r.percentage_used),
    temperatureCelsius: num(r.temperature_c),
    powerOnHours: num(r.power_on_hours),
    source: r.source as DiskHealthSource,
  };
}

/** A machine's disk reports at or after `since` (ms), oldest first. */
export async function diskHealthHistory(db: Db, machineId: string, since: number): Promise<DiskHealth[]> {
  const rows = await db.query(
    'SELECT * FROM disk_health WHERE machine_id = ? AND at >= ? ORDER BY at, serial',
    [machineId, since],
  );
  return rows.map(diskOf);
}

/** Each disk's newest report with its machine's labels. */
export async function latestDiskHealth(db: Db): Promise<{ labels: HealthLabels; disk: DiskHealth }[]> {
  const rows = await db.query(
    `SELECT h.*, m.hostname, m.zone, m.rack, m.pool, c.name AS cluster_name
     FROM disk_health h
     JOIN (SELECT machine_id, serial, MAX(at) AS at FROM disk_health GROUP BY machine_id, serial) l
       ON l.machine_id = h.machine_id AND l.serial = h.serial AND l.at = h.at
     ${MACHINE_LABELS}`,
  );
  return rows.map((r) => ({ labels: labelsOf(r), disk: diskOf(r) }));
}

/**
 * Drops samples and disk reports older than `before` (ms), except each disk's newest report.
 * Returns how many rows went.
 */
export async function pruneHealth(db: Db, before: number): Promise<number> {
  const samples = await db.run('DELETE FROM health_samples WHERE at < ?', [before]);
  const disks = await db.run(
    `DELETE FROM disk_health WHERE at < ? AND at < (SELECT MAX(d.at) FROM disk_health d
       WHERE d.machine_id = disk_health.machine_id AND d.serial = disk_health.serial)`,
    [before],
  );
  return samples + disks;
}
