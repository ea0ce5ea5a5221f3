/**
 * Timeline writes from the boot path, batched: a boot storm of hundreds of clients must not
 * turn into one store transaction per request. `push` never blocks a response; `write` is for
 * the few events a caller must know are stored (the agent's hello).
 */
import type { NewEvent } from '../../core/event.ts';
import type { Store } from '../../store/store.ts';
import type { BootLogger } from './logger.ts';

export class EventSink {
  readonly #store: Store;
  readonly #log: BootLogger;
  readonly #maxDelayMs: number;
  #pending: NewEvent[] = [];
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> = Promise.resolve();

  constructor(store: Store, log: BootLogger, maxDelayMs = 50) {
    this.#store = store;
    this.#log = log;
    this.#maxDelayMs = maxDelayMs;
  }

  push(e: NewEvent): void {
    this.#pending.push(e);
    if (this.#pending.length >= 200) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#maxDelayMs);
  }

  /** Writes now, after what is pending (keeps the timeline in order). */
  async write(e: NewEvent): Promise<void> {
    this.#pending.push(e);
    await this.flush();
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#pending;
    this.#pending = [];
    const run = this.#inflight.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.#store.appendEvents(batch);
      } catch (e) {
        this.#log.error({ err: e, events: batch.length }, 'cannot write boot events to the store');
      }
    });
    this.#inflight = run;
    return run;
  }
}
