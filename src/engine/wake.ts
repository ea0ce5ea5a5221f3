/**
 * In-process wake-ups for a step that waits on other jobs of this region (a cluster's
 * deploy-nodes on its members' deploy jobs). The waiter sleeps its `ms` — the poll, which stays
 * the guarantee, since those jobs may run in another region — or until `count` of the machines
 * it named have had a job end in this process, whichever comes first. A job's end costs one Map
 * lookup; a waiter is woken once, not once per machine.
 */

interface Waiter {
  left: number;
  wake(): void;
}

const waiters = new Map<string, Set<Waiter>>();

/** A job of `machineId` ended in this process (done or failed). */
export function machineJobEnded(machineId: string | null): void {
  if (!machineId) return;
  for (const w of waiters.get(machineId) ?? []) if (--w.left <= 0) w.wake();
}

/** What a waiting step may be woken by: `count` job ends among `machines`. */
export interface WakeOn {
  readonly machines: readonly string[];
  readonly count: number;
}

/** Sleeps `ms`, or less when `on` is met or `signal` aborts. */
export function sleepOrWake(ms: number, signal: AbortSignal, on?: WakeOn): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    let ended = false;
    const w: Waiter = { left: on?.count ?? 0, wake: done };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    const watched = on && on.count > 0 ? on.machines : [];
    for (const id of watched) {
      const set = waiters.get(id) ?? new Set<Waiter>();
      waiters.set(id, set);
      set.add(w);
    }
    function done() {
      if (ended) return;
      ended = true;
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      for (const id of watched) {
        const set = waiters.get(id);
        set?.delete(w);
        if (set?.size === 0) waiters.delete(id);
      }
      resolve();
    }
  });
}

/** Machines some waiter watches now (tests: nothing is left behind). */
export const watchedMachines = (): number => waiters.size;
