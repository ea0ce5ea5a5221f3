import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.ts';
import { openStore } from './open.ts';
import { storeContract } from './store-contract.ts';

storeContract('PostgreSQL', async () => {
  const pg = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'ingot-store-'));
  const store = await openStore({ dataDir: dir, database: await pg.freshDatabase() });
  return {
    store,
    // Every row of every table, as PostgreSQL renders it as text.
    dump: async () => {
      const tables = await store.db.query<{ t: string }>(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'",
      );
      let out = '';
      for (const { t } of tables) {
        const rows = await store.db.query<{ r: string }>(`SELECT x::text AS r FROM ${t} x`);
        out += rows.map((r) => r.r).join('\n');
      }
      return out;
    },
    cleanup: async () => {
      await store.close();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
