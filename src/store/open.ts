import { join } from 'node:path';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { SecretBox } from './crypto.ts';
import { privateDir, privateSqlite } from './data-dir.ts';
import { migrate } from './migrations.ts';
import { PostgresDb } from './postgres.ts';
import { SqlStore } from './sql-store.ts';
import { SqliteDb } from './sqlite.ts';

export interface OpenStoreOptions {
  /** Data dir: holds the SQLite file (default store) and the secret key. */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; empty means SQLite in the data dir. */
  database?: string;
  /** Secret key file; defaults to `<dataDir>/secret.key`. Regions sharing a PostgreSQL must share it. */
  secretKeyFile?: string;
}

/** Opens (and migrates) the store a region runs on. */
export async function openStore(opts: OpenStoreOptions): Promise<SqlStore> {
  privateDir(opts.dataDir);
  const box = SecretBox.fromFile(opts.secretKeyFile ?? join(opts.dataDir, 'secret.key'));
  const url = opts.database ?? '';
  let db: SqliteDb | PostgresDb;
  if (url === '' || url.startsWith('sqlite:')) {
    const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : join(opts.dataDir, 'ingot.db');
    privateSqlite(file);
    db = new SqliteDb(file);
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    db = new PostgresDb(url);
  } else {
    throw new IngotError(
      ErrorCode.Config,
      `--database: "${url}" is not supported; use postgres://user@host/db or leave it empty for SQLite`,
      {
        details: { field: 'database' },
      },
    );
  }
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw new IngotError(ErrorCode.Store, `cannot open the store: ${(e as Error).message}`, { cause: e });
  }
  return new SqlStore(db, box);
}
