import type { NewEvent } from '../core/event.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { Db } from './db.ts';

/** Inserts events with one statement per event (inside the caller's transaction). */
export async function insertEvents(db: Db, events: readonly NewEvent[], now = Date.now()): Promise<void> {
  for (const e of events) {
    await db.run(
      'INSERT INTO events (at, type, level, machine_id, cluster_id, job_id, actor, message, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        now,
        e.type,
        e.level ?? 'info',
        e.machineId ?? null,
        e.clusterId ?? null,
        e.jobId ?? null,
        e.actor,
        e.message,
        JSON.stringify(e.data ?? {}),
      ],
    );
  }
}

/**
 * Turns a unique-constraint violation from either backend into INGOT_CONFLICT naming the
 * field; anything else is re-thrown untouched.
 */
export function mapUniqueViolation(e: unknown, fields: Record<string, string>): never {
  const err = e as { code?: string; message?: string; constraint?: string; detail?: string };
  const text = `${err.message ?? ''} ${err.constraint ?? ''} ${err.detail ?? ''}`;
  const isUnique = err.code === '23505' || /UNIQUE constraint failed|PRIMARY KEY constraint/i.test(text);
  if (isUnique) {
    for (const [needle, field] of Object.entries(fields)) {
      if (text.includes(needle)) {
        throw new IngotError(ErrorCode.Conflict, `${field}: already in use; choose another value`, {
          details: { field },
        });
      }
    }
    throw new IngotError(ErrorCode.Conflict, 'a resource with the same unique key exists', { cause: e });
  }
  throw e;
}

export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
