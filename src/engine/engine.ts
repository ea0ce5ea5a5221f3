/**
 * The engine of one region: a job worker plus the watchdog sweep, and the action entry point
 * the API calls. Several regions on one PostgreSQL each run one; leases share the work.
 */
import type { WatchdogLimits } from '../core/lifecycle.ts';
import type { Store } from '../store/store.ts';
import { type ActionRequest, type ActionResult, requestAction } from './actions.ts';
import { sweepWatchdog } from './watchdog.ts';
import { Worker, type WorkerOptions } from './worker.ts';

export interface EngineOptions extends WorkerOptions {
  /** How often the watchdog sweeps. @default 30 seconds */
  watchdogIntervalMs?: number;
  watchdog?: WatchdogLimits;
}

export class Engine {
  readonly worker: Worker;
  readonly #store: Store;
  readonly #o: EngineOptions;
  #timer: NodeJS.Timeout | null = null;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.#store = o.store;
    this.worker = new Worker(o);
  }

  get owner(): string {
    return this.worker.owner;
  }

  start(): void {
    this.worker.start();
    this.#timer = setInterval(() => {
      sweepWatchdog(this.#store, this.#o.watchdog).catch(() => undefined);
    }, this.#o.watchdogIntervalMs ?? 30_000);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.worker.stop();
  }

  async act(req: ActionRequest): Promise<ActionResult> {
    const r = await requestAction(this.#store, req);
    if (r.from !== r.machine.state) this.#o.hooks?.transition?.(r.from, r.machine.state);
    if (r.job) this.worker.nudge();
    return r;
  }
}
