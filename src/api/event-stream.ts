/**
 * Live events for SSE clients. One poller per region tails the events table by id and fans
 * new rows out to subscribers. Tailing the table (rather than an in-process bus) means a
 * client sees events written by every region sharing the store, and can resume after a
 * disconnect from `Last-Event-ID`.
 */
import type { IngotEvent } from '../core/event.ts';
import type { Store } from '../store/store.ts';

type Listener = (e: IngotEvent) => void;

export class EventTail {
  readonly #store: Store;
  readonly #listeners = new Set<Listener>();
  readonly #intervalMs: number;
  #last = -1;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  constructor(store: Store, intervalMs = 250) {
    this.#store = store;
    this.#intervalMs = intervalMs;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    if (!this.#timer) this.#start();
    return () => {
      this.#listeners.delete(fn);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  #start(): void {
    this.#timer = setInterval(() => void this.#poll(), this.#intervalMs);
  }

  async #poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#last < 0) {
        const [newest] = await this.#store.listEvents({ limit: 1, newestFirst: true });
        this.#last = newest?.id ?? 0;
        return;
      }
      for (;;) {
        const batch = await this.#store.listEvents({ afterId: this.#last, limit: 500 });
        for (const e of batch) {
          this.#last = e.id;
          for (const fn of this.#listeners) fn(e);
        }
        if (batch.length < 500) break;
      }
    } catch {
      // The store is briefly unavailable: the next tick catches up from the last id.
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#last = -1;
  }
}
