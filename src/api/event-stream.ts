/**
 * Live events for SSE clients. One poller per region tails the events table by id and fans
 * new rows out to subscribers. Tailing the table (rather than an in-process bus) means a
 * client sees events written by every region sharing the store, and can resume after a
 * disconnect from `Last-Event-ID`.
 *
 * On PostgreSQL, ids come from a sequence and concurrent transactions may commit out of id
 * order: a row with a smaller id can appear after a larger one was read. Each poll therefore
 * re-reads a window below the last id and drops ids already sent.
 */
import type { IngotEvent } from '../core/event.ts';
import type { Store } from '../store/store.ts';

type Listener = (e: IngotEvent) => void;

export class EventTail {
  readonly #store: Store;
  readonly #listeners = new Set<Listener>();
  readonly #intervalMs: number;
  #last = -1;
  readonly #sent = new Set<number>();
  /** How far below the last id each poll looks again for late commits. */
  static readonly LOOKBACK = 256;
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
      let from = Math.max(0, this.#last - EventTail.LOOKBACK);
      for (;;) {
        const batch = await this.#store.listEvents({ afterId: from, limit: 500 });
        for (const e of batch) {
          from = e.id;
          if (this.#sent.has(e.id) || e.id <= this.#last - EventTail.LOOKBACK) continue;
          this.#sent.add(e.id);
          this.#last = Math.max(this.#last, e.id);
          for (const fn of this.#listeners) fn(e);
        }
        if (batch.length < 500) break;
      }
      for (const id of this.#sent) if (id <= this.#last - EventTail.LOOKBACK) this.#sent.delete(id);
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
    this.#sent.clear();
  }
}
