/**
 * SQLite's background checkpointer (sqlite-checkpointer.ts): off for a store that writes
 * little; past its threshold a worker thread checkpoints and the committing connection does
 * not; a failing worker hands checkpoints back to the committing connection.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteDb } from './sqlite.ts';

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('SQLite background checkpointer', () => {
  let dir: string;
  let file: string;
  const open: SqliteDb[] = [];
  const db = async (o: ConstructorParameters<typeof SqliteDb>[1]) => {
    const d = new SqliteDb(file, o);
    open.push(d);
    await d.exec('CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    return d;
  };
  /** n commits of one 8 KiB row each: at least two new WAL pages per commit. */
  const write = async (d: SqliteDb, from: number, n: number) => {
    for (let i = from; i < from + n; i++)
      await d.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, String(i % 10).repeat(8192)]));
  };
  const autoCheckpoint = async (d: SqliteDb) =>
    Number(
      (await d.query<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))[0].wal_autocheckpoint,
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-sqlite-ckpt-'));
    file = join(dir, 'x.db');
  });
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no thread for a store that writes little: the committing connection checkpoints', async () => {
    const d = await db({});
    for (let i = 0; i < 100; i++) await d.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x']));
    assert.equal(d.checkpointer?.state, 'off');
    assert.equal(await autoCheckpoint(d), 1000);
  });

  it('past its threshold checkpoints in a worker thread, not in COMMIT, and loses nothing', async () => {
    const d = await db({ checkpointer: { startAtWalBytes: 256 * 1024, intervalMs: 10 } });
    await write(d, 0, 64); // 64 commits: the WAL's size is looked at
    await until('the checkpointer to run', () => d.checkpointer?.state === 'on');
    assert.equal(await autoCheckpoint(d), 0, "the committing connection's automatic checkpoints are off");
    const before = statSync(file).size;
    await write(d, 64, 600); // ~5 MiB: more than the 1,000 pages the connection itself would copy
    await until('a background checkpoint', () => (d.checkpointer?.stats.checkpoints ?? 0) > 0);
    await until('the pages to reach the database file', () => statSync(file).size > before + 1024 * 1024);
    await d.close();
    assert.equal(d.checkpointer?.state, 'stopped');
    assert.equal(existsSync(`${file}-wal`), false, 'the last connection to close removed the WAL');
    const raw = new DatabaseSync(file, { readOnly: true });
    const rows = raw.prepare('SELECT COUNT(*) AS n, SUM(length(v)) AS bytes FROM t').get() as {
      n: number;
      bytes: number;
    };
    raw.close();
    assert.deepEqual({ n: rows.n, bytes: rows.bytes }, { n: 664, bytes: 664 * 8192 });
  });

  it('keeps the WAL bounded under writes that never pause', async () => {
    const d = await db({ checkpointer: { startAtWalBytes: 64 * 1024, intervalMs: 5, maxWalBytes: 1 << 20 } });
    await write(d, 0, 64);
    await until('the checkpointer to run', () => d.checkpointer?.state === 'on');
    // Back-to-back commits, each from its own turn of the event loop (as a server's come, from
    // I/O) but never a pause: a PASSIVE checkpoint alone would never find the WAL caught up.
    for (let i = 64; i < 2064; i++) {
      await write(d, i, 1);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 100));
    await write(d, 2064, 1);
    assert.ok((d.checkpointer?.stats.catchUps ?? 0) > 0, 'the committing connection caught up');
    // Without the catch-up the WAL file holds all ~35 MiB; with it, it starts again from its
    // beginning past 1 MiB and is cut back to 1 MiB then.
    assert.ok(
      statSync(`${file}-wal`).size < 4 * 1024 * 1024,
      `the WAL is ${statSync(`${file}-wal`).size} bytes after ~35 MiB went through it`,
    );
  });

  it('hands checkpoints back to the committing connection when the worker fails', async () => {
    const bad = join(dir, 'bad-worker.mjs');
    writeFileSync(bad, "throw new Error('no checkpoints here');\n");
    const d = await db({ checkpointer: { startAtWalBytes: 64 * 1024, worker: pathToFileURL(bad) } });
    await write(d, 0, 64);
    await until('the worker to fail', () => d.checkpointer?.state === 'failed');
    assert.match(d.checkpointer?.stats.lastError ?? '', /no checkpoints here/);
    assert.equal(await autoCheckpoint(d), 1000);
    await write(d, 64, 10);
    assert.equal((await d.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'))[0].n, 74);
  });

  it('is not started for checkpointer: false', async () => {
    const d = await db({ checkpointer: false });
    await write(d, 0, 200);
    assert.equal(d.checkpointer, null);
  });
});
