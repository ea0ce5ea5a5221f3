/**
 * Concurrency limits: so commissioning 1,000 machines at once neither overruns a BMC nor
 * floods a rack's network with boots.
 * - global: jobs one worker runs at once;
 * - perRack: boot-heavy workflows (`bootHeavy` in the lifecycle table) at once in one rack;
 * - perBmc: calls in flight to one BMC host (a chassis manager may front many systems).
 * Limits are per region process; several regions on one PostgreSQL each apply their own.
 */
import type { JobKind } from '../core/job.ts';
import { WORKFLOW_RULES, type WorkflowKind } from '../core/lifecycle.ts';

export interface Limits {
  /** @default 1000 */
  global: number;
  /** @default 100 */
  perRack: number;
  /** @default 4 */
  perBmc: number;
}

export const DEFAULT_LIMITS: Limits = { global: 1000, perRack: 100, perBmc: 4 };

/** Cluster workflows boot nothing themselves: their members' deploy and release jobs do. */
export const isBootHeavy = (kind: JobKind): boolean =>
  kind in WORKFLOW_RULES && WORKFLOW_RULES[kind as WorkflowKind].bootHeavy;

/** A counting semaphore with FIFO waiters. */
export class Semaphore {
  readonly #size: number;
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
    this.#free = size;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }

  /** Nobody holds it and nobody waits: safe to forget. */
  get unused(): boolean {
    return this.#free === this.#size && this.#waiters.length === 0;
  }
}

/** One semaphore per key (BMC host), created on demand and dropped when idle. */
export class KeyedSemaphores {
  readonly #size: number;
  readonly #sems = new Map<string, Semaphore>();

  constructor(size: number) {
    this.#size = size;
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let sem = this.#sems.get(key);
    if (!sem) {
      sem = new Semaphore(this.#size);
      this.#sems.set(key, sem);
    }
    await sem.acquire();
    try {
      return await fn();
    } finally {
      sem.release();
      // Forget it only when nobody holds or awaits it: a fresh one would let more in.
      if (sem.unused) this.#sems.delete(key);
    }
  }
}

/** Counts per key (racks), so the claim loop can skip jobs of full racks. */
export class KeyedCounter {
  readonly #counts = new Map<string, number>();
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
  add(key: string, n: number): void {
    const v = this.get(key) + n;
    if (v <= 0) this.#counts.delete(key);
    else this.#counts.set(key, v);
  }
}
