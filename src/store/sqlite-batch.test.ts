/**
 * SQLite's group commit (sqlite.ts): transactions queued together share one COMMIT, each in its
 * own savepoint, and every caller still sees exactly its own outcome.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteDb } from './sqlite.ts';

describe('SQLite group commit', () => {
  let dir: string;
  let db: SqliteDb;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-sqlite-batch-'));
    db = new SqliteDb(join(dir, 'x.db'));
    await db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const keys = async () => (await db.query<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k);

  it('commits transactions queued together once, each answered with its own result', async () => {
    const before = { ...db.stats };
    const got = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.tx(async (t) => {
          await t.run('INSERT INTO t (k, v) VALUES (?, ?)', [`k${String(i).padStart(2, '0')}`, i]);
          return i * 2;
        }),
      ),
    );
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => i * 2),
    );
    assert.equal((await keys()).length, 50);
    assert.equal(db.stats.txs - before.txs, 50);
    assert.ok(
      db.stats.commits - before.commits < 5,
      `${db.stats.commits - before.commits} commits for 50 transactions`,
    );
  });

  it('starts a new batch past 256 transactions, in order', async () => {
    const before = { ...db.stats };
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        db.tx(async (t) => {
          order.push(i);
          await t.run('INSERT INTO t (k, v) VALUES (?, ?)', [`n${i}`, i]);
        }),
      ),
    );
    assert.equal(db.stats.commits - before.commits, 3);
    assert.deepEqual(
      order,
      Array.from({ length: 600 }, (_, i) => i),
    );
  });

  it('rolls back only the body that throws; the others of its batch are kept', async () => {
    const results = await Promise.allSettled([
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1])),
      db.tx(async (t) => {
        await t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 2]);
        throw new Error('changed my mind');
      }),
      // A constraint error inside a body: that body alone fails.
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 3])),
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['c', 4])),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /changed my mind/);
    assert.match(String((results[2] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(await keys(), ['a', 'c']);
    assert.deepEqual(
      (await db.query<{ v: number }>('SELECT v FROM t WHERE k = ?', ['a'])).map((r) => r.v),
      [1],
    );
  });

  it('answers no caller of a batch whose transaction was lost: every one gets the error, nothing is kept', async () => {
    const results = await Promise.allSettled([
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['x', 1])),
      // A query in the batch would have seen x: it must not answer with a write that was lost.
      db.query<{ k: string }>('SELECT k FROM t'),
      db.tx(async (t) => {
        await t.run('ROLLBACK'); // what SQLite does itself on some I/O errors
        throw new Error('disk I/O error');
      }),
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['y', 2])),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected', 'rejected'],
    );
    assert.deepEqual(await keys(), []);
    // The connection is usable afterwards.
    await db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['z', 3]));
    assert.deepEqual(await keys(), ['z']);
  });

  it('keeps the order: a query asked for between two transactions sees the first, not the second, in the same commit', async () => {
    const before = { ...db.stats };
    const [, seen, , changed] = await Promise.all([
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['first', 1])),
      db.query<{ k: string }>('SELECT k FROM t'),
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['second', 2])),
      db.run('UPDATE t SET v = v + 10'),
    ]);
    assert.deepEqual(
      seen.map((r) => r.k),
      ['first'],
    );
    assert.equal(changed, 2, 'the plain write saw both transactions');
    assert.equal(db.stats.commits - before.commits, 1, 'the query and the write did not split the batch');
    assert.deepEqual(
      (await db.query<{ v: number }>('SELECT v FROM t ORDER BY k')).map((r) => r.v),
      [11, 12],
    );
  });

  it('a failing plain statement in a batch fails alone', async () => {
    const results = await Promise.allSettled([
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1])),
      db.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 2]),
      db.query('SELECT nope FROM t'),
      db.tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['b', 3])),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(await keys(), ['a', 'b']);
  });

  it('transactions asked for by different callbacks of one turn of the event loop share a commit', async () => {
    const before = { ...db.stats };
    // Timers due together run in one turn, each its own callback (as I/O callbacks do).
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<void>((resolve, reject) =>
            setTimeout(
              () =>
                void db
                  .tx((t) => t.run('INSERT INTO t (k, v) VALUES (?, ?)', [`cb${i}`, i]))
                  .then(() => resolve(), reject),
              0,
            ),
          ),
      ),
    );
    assert.equal(db.stats.txs - before.txs, 20);
    assert.ok(
      db.stats.commits - before.commits <= 2,
      `${db.stats.commits - before.commits} commits for 20 transactions of one turn`,
    );
  });

  it('a lone transaction that throws leaves nothing', async () => {
    await assert.rejects(
      db.tx(async (t) => {
        await t.run('INSERT INTO t (k, v) VALUES (?, ?)', ['gone', 1]);
        throw new Error('no');
      }),
      /no/,
    );
    assert.deepEqual(await keys(), []);
  });
});
