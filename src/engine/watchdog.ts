/**
 * The watchdog: a machine left in an in-progress state longer than its limit moves to the
 * failed twin with a reason that says what it was last doing, and its job is cancelled. Every
 * region may run it: the compare-and-set on the state makes a double sweep harmless.
 */
import { IN_PROGRESS, type MachineState, type WatchdogLimits, watchdogFor } from '../core/lifecycle.ts';
import type { Store } from '../store/store.ts';

export async function sweepWatchdog(
  store: Store,
  overrides: WatchdogLimits = {},
  now = Date.now(),
): Promise<number> {
  let moved = 0;
  for (const state of Object.keys(IN_PROGRESS) as MachineState[]) {
    const limit = watchdogFor(state, overrides)!;
    const stuck = await store.machinesStuck([state], now - limit, 500);
    for (const m of stuck) {
      const [job] = await store.listJobs({ machineId: m.id, status: ['queued', 'running'] }, 1);
      const step = job?.steps[job.stepIndex];
      const last = step
        ? `; it was at step ${step.name}${job.scratch.lastMessage ? ` (${job.scratch.lastMessage})` : ''}`
        : '';
      try {
        await store.transition({
          machineId: m.id,
          from: state,
          to: IN_PROGRESS[state]!.failed,
          reason: `watchdog: ${state} did not finish within ${Math.round(limit / 60_000)} min${last}`,
          actor: 'watchdog',
          cancelJobs: true,
          data: { limitMs: limit, step: step?.name ?? null },
        });
        moved++;
      } catch {
        // Lost the race to the job finishing or another region's watchdog: nothing to do.
      }
    }
  }
  return moved;
}
