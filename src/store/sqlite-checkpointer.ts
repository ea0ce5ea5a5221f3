/**
 * SQLite's checkpoints off the event loop. By default the connection that commits also copies
 * the WAL back into the database file every 1,000 pages, inside that COMMIT: the page copies
 * and two fsyncs stop the region's one thread — every DHCP reply, API request and job step
 * behind it — for milliseconds at a time (a 1,000-workflow burst spent ~250 ms of its COMMITs
 * there, and DHCP's DORA p99 grew with them; docs/bench-region.md, 2026-12-05).
 *
 * Once the WAL file has grown past `startAtWalBytes` (a store that writes little never pays
 * for a thread), a worker thread with its own connection checkpoints PASSIVE every
 * `intervalMs` (sqlite-checkpoint-worker.ts) and the committing connection's automatic
 * checkpoints are turned off. A PASSIVE checkpoint never takes the write lock and never waits,
 * so neither side blocks the other; the WAL restarts from its beginning when a transaction
 * begins after everything in it was copied. Writes that never pause never give it that moment
 * and the WAL would grow without end: once the WAL file is longer than `maxWalBytes`, the
 * committing connection checkpoints itself between two transactions until everything is
 * copied (what it did every 1,000 pages before, now once per `maxWalBytes`), and the WAL is
 * cut back to `maxWalBytes` when it starts again (`journal_size_limit`). If the worker fails — it cannot start, a checkpoint errors, it exits — the
 * committing connection's automatic checkpoints are turned back on: the WAL never grows
 * without bound.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { CheckpointMessage, CheckpointWorkerData } from './sqlite-checkpoint-worker.ts';

export interface CheckpointerOptions {
  /** The worker starts once the WAL file is this big. @default 1 MiB */
  startAtWalBytes: number;
  /** How often the worker checkpoints. @default 100 ms */
  intervalMs: number;
  /** A WAL file longer than this is caught up by the committing connection. @default 64 MiB */
  maxWalBytes: number;
  /** The worker's module (tests give a failing one). */
  worker: URL;
}

export const DEFAULT_CHECKPOINTER: CheckpointerOptions = {
  startAtWalBytes: 1 << 20,
  intervalMs: 100,
  maxWalBytes: 64 << 20,
  worker: new URL('./sqlite-checkpoint-worker.ts', import.meta.url),
};

/** Every this many commits the WAL's size is looked at. */
const CHECK_EVERY = 64;

/** What the checkpointer does on the committing connection. */
export interface CommittingConnection {
  /** Its automatic checkpoints off (false) or back on (true, SQLite's 1,000 pages). */
  autoCheckpoint(on: boolean): void;
  /** One PASSIVE checkpoint now: true when everything in the WAL was copied. */
  checkpointNow(): boolean;
}

/** off: not needed yet; on: the worker checkpoints; failed: the committing connection does. */
export type CheckpointerState = 'off' | 'starting' | 'on' | 'failed' | 'stopped';

export class Checkpointer {
  readonly #path: string;
  readonly #o: CheckpointerOptions;
  readonly #conn: CommittingConnection;
  #worker: Worker | null = null;
  #state: CheckpointerState = 'off';
  /** Checkpoints that copied pages, and the last error that made the worker give up. */
  readonly stats = { checkpoints: 0, catchUps: 0, lastError: null as string | null };

  #sinceCheck = 0;
  /** The WAL grew past `maxWalBytes`: the committing connection catches up. */
  #catchUp = false;

  constructor(path: string, o: Partial<CheckpointerOptions>, conn: CommittingConnection) {
    this.#path = path;
    this.#o = { ...DEFAULT_CHECKPOINTER, ...o };
    this.#conn = conn;
  }

  get state(): CheckpointerState {
    return this.#state;
  }

  get maxWalBytes(): number {
    return this.#o.maxWalBytes;
  }

  /**
   * Called after every commit, outside any transaction. Every CHECK_EVERY commits it looks at
   * the WAL's size: the worker starts once it has grown; past `maxWalBytes` the committing
   * connection catches up, after each commit until everything is copied (the worker may hold
   * the checkpoint at that moment); the next write then starts the WAL from its beginning.
   */
  committed(): void {
    if (this.#catchUp) {
      this.stats.catchUps++;
      this.#catchUp = !this.#conn.checkpointNow();
    }
    if (++this.#sinceCheck < CHECK_EVERY) return;
    this.#sinceCheck = 0;
    let size: number;
    try {
      size = statSync(`${this.#path}-wal`).size;
    } catch {
      return; // no WAL yet
    }
    if (this.#state === 'off' && size >= this.#o.startAtWalBytes) this.#start();
    else if (this.#state === 'on' && size > this.#o.maxWalBytes) this.#catchUp = true;
  }

  #start(): void {
    this.#state = 'starting';
    const data: CheckpointWorkerData = { path: this.#path, intervalMs: this.#o.intervalMs };
    const w = new Worker(this.#o.worker, { workerData: data });
    this.#worker = w;
    w.unref(); // a store nobody closed does not keep the process alive
    w.on('online', () => {
      if (this.#state !== 'starting') return;
      this.#state = 'on';
      this.#conn.autoCheckpoint(false);
    });
    w.on('message', (m: CheckpointMessage) => {
      if ('error' in m) this.#fail(m.error);
      else this.stats.checkpoints++;
    });
    w.on('error', (e) => this.#fail(e.message));
    w.on('exit', (code) => {
      if (this.#state === 'starting' || this.#state === 'on')
        this.#fail(`checkpoint worker exited (${code})`);
    });
  }

  #fail(why: string): void {
    if (this.#state === 'failed' || this.#state === 'stopped') return;
    this.stats.lastError = why;
    const was = this.#state;
    this.#state = 'failed';
    if (was === 'on') this.#conn.autoCheckpoint(true);
    void this.#worker?.terminate();
    this.#worker = null;
  }

  /** Stops the worker (its connection closed) before the committing connection closes. */
  async stop(): Promise<void> {
    const w = this.#worker;
    const was = this.#state;
    this.#state = 'stopped';
    this.#worker = null;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    if (was === 'on') w.postMessage('stop');
    else void w.terminate();
    const timer = setTimeout(() => void w.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}
