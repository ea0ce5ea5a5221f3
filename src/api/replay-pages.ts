/**
 * Pages of event history as SSE text, shared by every stream replaying them. Clients that
 * resume together (a reconnect storm, 200 consoles opening `?after=0`) walk the same pages at
 * about the same time: each page is read from the store and serialised once, and every stream
 * writes the same Buffer. Without sharing, each stream re-read and re-serialised the history,
 * and the garbage alone grew a region by a quarter of a gigabyte.
 *
 * Only full pages are kept, and only briefly: the history below the newest events does not
 * change, but on PostgreSQL a late commit can still land just below the head.
 */
import type { IngotEvent } from '../core/event.ts';
import type { Store } from '../store/store.ts';

export interface ReplayPage {
  /** The page as SSE messages (`id`, `event`, `data`). */
  readonly text: Buffer;
  /** Id of the page's last event; null when the page is empty. */
  readonly lastId: number | null;
  readonly count: number;
}

export interface ReplayPagesOptions {
  /** Events per page. @default 100 */
  readonly pageSize?: number;
  /** Bytes of pages kept. @default 16 MiB */
  readonly cacheBytes?: number;
  /** How long a page is kept. @default 5 s */
  readonly ttlMs?: number;
}

/** One event as an SSE message. */
export const sseMessage = (e: IngotEvent): string =>
  `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

interface Entry {
  readonly page: Promise<ReplayPage>;
  readonly at: number;
  bytes: number;
}

export class ReplayPages {
  readonly pageSize: number;
  readonly #store: Store;
  readonly #cacheBytes: number;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  /** Pages read from the store (a page served from memory does not count). */
  reads = 0;

  constructor(store: Store, o: ReplayPagesOptions = {}) {
    this.#store = store;
    this.pageSize = o.pageSize ?? 100;
    this.#cacheBytes = o.cacheBytes ?? 16 * 2 ** 20;
    this.#ttlMs = o.ttlMs ?? 5000;
  }

  /** The page of events after `after` (of one machine, when given). */
  get(after: number, machine?: string): Promise<ReplayPage> {
    const key = `${machine ?? ''}\n${after}`;
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.page;
    if (hit) this.#drop(key, hit);
    this.reads++;
    const page = this.#store.listEvents({ machineId: machine, afterId: after, limit: this.pageSize }).then(
      (events): ReplayPage => ({
        text: Buffer.from(events.map(sseMessage).join('')),
        lastId: events.at(-1)?.id ?? null,
        count: events.length,
      }),
    );
    const entry: Entry = { page, at: now, bytes: 0 };
    this.#entries.set(key, entry);
    page.then(
      (p) => {
        // A short page is the head of the history: it will grow, do not keep it.
        if (p.count < this.pageSize) return this.#drop(key, entry);
        entry.bytes = p.text.length;
        this.#bytes += entry.bytes;
        this.#evict(now);
      },
      () => this.#drop(key, entry),
    );
    return page;
  }

  #drop(key: string, entry: Entry): void {
    if (this.#entries.get(key) !== entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Oldest first (Map order): expired pages, then as many as the byte bound needs. */
  #evict(now: number): void {
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.#cacheBytes && now - e.at < this.#ttlMs) break;
      if (e.bytes > 0 || now - e.at >= this.#ttlMs) this.#drop(key, e);
    }
  }
}
