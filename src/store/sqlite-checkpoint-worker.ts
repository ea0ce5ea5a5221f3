/**
 * The body of SQLite's background checkpointer (sqlite-checkpointer.ts), run in a worker
 * thread: its own connection to the region's database file copies the WAL's committed pages
 * back into the database every `intervalMs` with a PASSIVE checkpoint — one that never takes
 * the write lock and never waits for the region's connection, so that connection's commits no
 * longer stop for the page copies and fsyncs a checkpoint costs. Reports each checkpoint that
 * moved pages; closes its connection and exits on "stop".
 * A report also says how long the WAL is, so the committing side can catch up itself when
 * writes never pause (sqlite-checkpointer.ts).
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
}

/** What the worker posts: pages copied by a checkpoint, or why one failed. */
export type CheckpointMessage = { checkpointed: number; log: number } | { error: string };

const port = parentPort;
if (port) {
  const { path, intervalMs } = workerData as CheckpointWorkerData;
  const db = new DatabaseSync(path);
  // The region's durability setting: the WAL is synced before its pages are copied, the
  // database after.
  db.exec('PRAGMA synchronous = NORMAL');
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let lastLog = -1;
  let lastDone = -1;
  const timer = setInterval(() => {
    try {
      const r = checkpoint.get() as { busy: number; log: number; checkpointed: number };
      if (r.checkpointed > 0 && (r.log !== lastLog || r.checkpointed !== lastDone))
        port.postMessage({ checkpointed: r.checkpointed, log: r.log } satisfies CheckpointMessage);
      lastLog = r.log;
      lastDone = r.checkpointed;
    } catch (e) {
      port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies CheckpointMessage);
    }
  }, intervalMs);
  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}
