/**
 * The lease group commit in the store (commitLeases), on SQLite and on a real PostgreSQL:
 * the guard that keeps an address from ever being written for two MACs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LeaseCommitter } from './group-commit.ts';
import { openStore } from '../../store/open.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import type { LeaseWrite } from '../../store/store.ts';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';

function contract(name: string, open: () => Promise<{ store: SqlStore; cleanup: () => Promise<void> }>) {
  describe(`commitLeases on ${name}`, () => {
    let store: SqlStore;
    let cleanup: () => Promise<void>;
    let subnetId: string;
    const lease = (ipNum: number, mac: string, over: Partial<LeaseWrite> = {}): LeaseWrite => ({
      subnetId,
      ip: `10.70.0.${ipNum & 255}`,
      ipNum,
      mac,
      machineId: null,
      expiresAt: Date.now() + 60_000,
      ...over,
    });
    const base = 0x0a460000; // 10.70.0.0

    before(async () => {
      ({ store, cleanup } = await open());
      const s = await store.createSubnet(
        {
          name: 'l',
          cidr: '10.70.0.0/24',
          gateway: null,
          dns: [],
          vlan: null,
          dhcpMode: 'full',
          autoEnlist: false,
          ranges: [{ kind: 'dynamic', start: '10.70.0.10', end: '10.70.0.200' }],
        },
        't',
      );
      subnetId = s.id;
    });
    after(() => cleanup());

    it('writes a batch and refuses the second MAC for the same address in it', async () => {
      const ok = await store.commitLeases([
        lease(base + 10, 'aa:00:00:00:00:01'),
        lease(base + 10, 'aa:00:00:00:00:02'),
      ]);
      assert.deepEqual(ok, [true, false]);
      const rows = await store.loadLeases(subnetId);
      assert.deepEqual(
        rows.map((r) => [r.ipNum, r.mac]),
        [[base + 10, 'aa:00:00:00:00:01']],
      );
    });

    it('renews the same MAC, takes over an expired lease, never a static one', async () => {
      assert.deepEqual(await store.commitLeases([lease(base + 10, 'aa:00:00:00:00:01')]), [true]);
      await store.commitLeases([lease(base + 11, 'aa:00:00:00:00:03', { expiresAt: Date.now() - 1 })]);
      assert.deepEqual(await store.commitLeases([lease(base + 11, 'aa:00:00:00:00:04')]), [true]);
      await store.allocateIp(subnetId, { ip: '10.70.0.12', mac: 'aa:00:00:00:00:05', kind: 'static' });
      assert.deepEqual(await store.commitLeases([lease(base + 12, 'aa:00:00:00:00:06')]), [false]);
      assert.deepEqual(
        await store.commitLeases([lease(base + 12, 'aa:00:00:00:00:05')]),
        [false],
        'static rows are not leases',
      );
    });

    it('moves a MAC to a new address by dropping its old lease in the same transaction', async () => {
      await store.commitLeases([lease(base + 20, 'aa:00:00:00:00:07')]);
      await store.commitLeases([lease(base + 21, 'aa:00:00:00:00:07')]);
      const mine = (await store.loadLeases(subnetId)).filter((r) => r.mac === 'aa:00:00:00:00:07');
      assert.deepEqual(
        mine.map((r) => r.ipNum),
        [base + 21],
      );
    });

    it('stores a known machine’s lease as a reservation that another MAC cannot take', async () => {
      const m = await store.createMachine(
        {
          hostname: 'r1',
          arch: 'amd64',
          bmc: null,
          nics: [{ mac: 'aa:00:00:00:00:08', boot: true }],
          tags: [],
          zone: 'z',
          rack: 'r',
          pool: 'p',
        },
        't',
      );
      await store.commitLeases([
        lease(base + 30, 'aa:00:00:00:00:08', { machineId: m.id, expiresAt: Date.now() - 1 }),
      ]);
      const row = (await store.loadLeases(subnetId)).find((r) => r.ipNum === base + 30);
      assert.equal(row?.expiresAt, null);
      assert.deepEqual(await store.commitLeases([lease(base + 30, 'aa:00:00:00:00:09')]), [false]);
    });

    it('group-commits concurrent leases in few transactions, each answered', async () => {
      const c = new LeaseCommitter(store, { windowMs: 5 });
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          c.commit(lease(base + 100 + (i % 50), `bb:00:00:00:00:${i.toString(16).padStart(2, '0')}`)),
        ),
      );
      assert.equal(results.filter(Boolean).length, 50, 'one winner per address');
      assert.ok(c.stats.batches <= 3, `batches: ${c.stats.batches}`);
      const rows = (await store.loadLeases(subnetId)).filter((r) => r.ipNum >= base + 100);
      assert.equal(new Set(rows.map((r) => r.mac)).size, 50);
    });
  });
}

contract('node:sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-leases-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let pg: TestPostgres | null = null;
contract('PostgreSQL', async () => {
  pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'ingot-leases-'));
  const store = await openStore({ dataDir: dir, database: await pg.freshDatabase() });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
