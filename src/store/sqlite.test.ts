import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './open.ts';
import { storeContract } from './store-contract.ts';

storeContract('node:sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ingot-store-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    // The database file and its WAL: every byte SQLite wrote.
    dump: async () =>
      ['ingot.db', 'ingot.db-wal']
        .map((f) => {
          try {
            return readFileSync(join(dir, f)).toString('latin1');
          } catch {
            return '';
          }
        })
        .join(''),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
