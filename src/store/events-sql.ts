/** The events table: every machine's timeline and the audit trail, read in id order. */
import type { IngotEvent, NewEvent } from '../core/event.ts';
import type { Db, SqlValue } from './db.ts';
import { eventFromRow } from './rows.ts';
import { insertEvents } from './sql-util.ts';
import type { EventFilter } from './store.ts';

export function appendEvents(db: Db, events: NewEvent[]): Promise<void> {
  return db.tx((t) => insertEvents(t, events));
}

export async function listEvents(db: Db, f: EventFilter): Promise<IngotEvent[]> {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (f.machineId) {
    clauses.push('machine_id = ?');
    params.push(f.machineId);
  }
  if (f.clusterId) {
    clauses.push('cluster_id = ?');
    params.push(f.clusterId);
  }
  if (f.jobId) {
    clauses.push('job_id = ?');
    params.push(f.jobId);
  }
  if (f.afterId !== undefined) {
    clauses.push('id > ?');
    params.push(f.afterId);
  }
  const rows = await db.query(
    `SELECT * FROM events WHERE ${clauses.length ? clauses.join(' AND ') : '1 = 1'} ORDER BY id ${f.newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
    [...params, f.limit],
  );
  return rows.map(eventFromRow);
}
