import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { ReplayPages } from './replay-pages.ts';

describe('replay pages', () => {
  let dir: string;
  let store: SqlStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-pages-'));
    store = await openStore({ dataDir: dir });
    await store.appendEvents(
      Array.from({ length: 1_050 }, (_, i) => ({ type: 'test.filler', actor: 'test', message: `e${i}` })),
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads each page of a history once for many streams walking it together', async () => {
    const pages = new ReplayPages(store, { pageSize: 100, ttlMs: 60_000 });
    const walk = async () => {
      let after = 0;
      let n = 0;
      for (;;) {
        const p = await pages.get(after);
        n += p.count;
        if (p.count < 100) return n;
        after = p.lastId!;
      }
    };
    const counts = await Promise.all(Array.from({ length: 20 }, walk));
    assert.deepEqual(new Set(counts), new Set([counts[0]]));
    assert.ok(counts[0] >= 1_050);
    assert.equal(pages.reads, Math.floor(counts[0] / 100) + 1, 'one read per page, 20 streams');
  });

  it('never keeps the short page at the head of the history, which grows', async () => {
    const pages = new ReplayPages(store, { pageSize: 100, ttlMs: 60_000 });
    const [newest] = await store.listEvents({ limit: 1, newestFirst: true });
    assert.equal((await pages.get(newest.id - 10)).count, 10);
    await store.appendEvents([{ type: 'test.filler', actor: 'test', message: 'late' }]);
    const again = await pages.get(newest.id - 10);
    assert.equal(again.count, 11);
    assert.match(again.text.toString(), /^id: \d+\nevent: test\.filler\ndata: \{/);
  });
});
