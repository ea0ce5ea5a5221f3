/**
 * Batches boot events (DHCP, TFTP) for machines' timelines: one store transaction every
 * `intervalMs` instead of one per packet. Bounded: past `maxPending` the oldest are dropped
 * and counted, so a storm can never grow memory without limit.
 */
import type { Logger } from 'pino';
import type { NewEvent } from '../../core/event.ts';
import type { Store } from '../../store/store.ts';

export class EventBatcher {
  readonly #store: Store;
  readonly #log: Logger | undefined;
  readonly #maxPending: number;
  #pending: NewEvent[] = [];
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(store: Store, opts: { intervalMs?: number; maxPending?: number; logger?: Logger } = {}) {
    this.#store = store;
    this.#log = opts.logger;
    this.#maxPending = opts.maxPending ?? 20_000;
    this.#timer = setInterval(() => void this.flush(), opts.intervalMs ?? 100);
    this.#timer.unref();
  }

  add(e: NewEvent): void {
    if (this.#pending.length >= this.#maxPending) {
      this.#pending.shift();
      this.dropped++;
    }
    this.#pending.push(e);
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#pending;
      if (batch.length === 0) return;
      this.#pending = [];
      try {
        await this.#store.appendEvents(batch);
      } catch (e) {
        // The timeline is diagnostics: losing a batch must not stop booting machines.
        this.#log?.warn({ err: e, events: batch.length }, 'could not write boot events');
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
