/**
 * Runs one action on many machines, a few requests at a time, and keeps each machine's
 * outcome: the summary says how many were accepted and why the others failed
 * ("commission: accepted for 8, failed for 2 machines: BMC unreachable").
 */
import { ApiError } from '../api/client.ts';
import type { Action, ActionResult, Machine } from '../api/types.ts';

export interface BulkOutcome {
  id: string;
  hostname: string;
  ok: boolean;
  message?: string;
  result?: ActionResult;
}

export interface BulkReport {
  action: Action;
  outcomes: BulkOutcome[];
}

export async function runBulk(
  machines: Pick<Machine, 'id' | 'hostname'>[],
  action: Action,
  act: (id: string, action: Action) => Promise<ActionResult>,
  o: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<BulkReport> {
  const outcomes: BulkOutcome[] = new Array(machines.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < machines.length) {
      const i = next++;
      const m = machines[i];
      try {
        outcomes[i] = { id: m.id, hostname: m.hostname, ok: true, result: await act(m.id, action) };
      } catch (e) {
        outcomes[i] = {
          id: m.id,
          hostname: m.hostname,
          ok: false,
          message: e instanceof ApiError || e instanceof Error ? e.message : String(e),
        };
      }
      o.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, machines.length) }, worker));
  return { action, outcomes };
}

const machinesWord = (n: number) => `${n} machine${n === 1 ? '' : 's'}`;

export function summarise(r: BulkReport): string {
  const ok = r.outcomes.filter((o) => o.ok).length;
  const failed = r.outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return `${r.action}: accepted for ${machinesWord(ok)}`;
  const why = failed[0].message ?? 'unknown error';
  if (ok === 0) return `${r.action}: failed for ${machinesWord(failed.length)}: ${why}`;
  return `${r.action}: accepted for ${ok}, failed for ${machinesWord(failed.length)}: ${why}`;
}
