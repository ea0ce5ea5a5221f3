/**
 * BMC power readings (the system's input power in watts), kept so the cost model can average a
 * machine's draw over a window. They are recorded from the sensor reads the region already
 * makes (GET /machines/{id}/sensors), at most one per machine per `POWER_READING_SPACING_MS`.
 */
import type { Db } from './db.ts';

/** A page polling every few seconds records one reading a minute, not twelve. */
export const POWER_READING_SPACING_MS = 60_000;

export interface PowerAverage {
  readonly watts: number;
  readonly readings: number;
}

/**
 * Records a reading unless the machine has one in the last spacing period (then it is a no-op
 * returning false). A machine deleted meanwhile takes its readings with it (ON DELETE CASCADE).
 */
export async function recordPowerReading(
  db: Db,
  machineId: string,
  at: number,
  watts: number,
): Promise<boolean> {
  const n = await db.run(
    `INSERT INTO power_readings (machine_id, at, watts)
     SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM machines WHERE id = ?)
       AND NOT EXISTS (SELECT 1 FROM power_readings WHERE machine_id = ? AND at > ? AND at <= ?)`,
    [machineId, at, watts, machineId, machineId, at - POWER_READING_SPACING_MS, at],
  );
  return n > 0;
}

/** Each machine's mean of its readings taken at or after `since` (ms), with their count. */
export async function averagePower(db: Db, since: number): Promise<Map<string, PowerAverage>> {
  const rows = await db.query<{ machine_id: string; watts: number | string; readings: number | string }>(
    'SELECT machine_id, AVG(watts) AS watts, COUNT(*) AS readings FROM power_readings WHERE at >= ? GROUP BY machine_id',
    [since],
  );
  return new Map(rows.map((r) => [r.machine_id, { watts: Number(r.watts), readings: Number(r.readings) }]));
}

/** Drops readings older than `before` (ms); returns how many. */
export async function prunePowerReadings(db: Db, before: number): Promise<number> {
  return db.run('DELETE FROM power_readings WHERE at < ?', [before]);
}
