import pg from 'pg';
import { type Db, numberPlaceholders, type Row, type SqlValue } from './db.ts';

// BIGINT (timestamps in ms, event ids) fits in a double for the next 280,000 years.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** PostgreSQL behind the Db seam: a pool, one client per transaction. */
export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #sql = new Map<string, string>();

  constructor(url: string, poolSize = 10) {
    this.#pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle client losing its server must not crash the region; the next query reconnects.
    this.#pool.on('error', () => undefined);
  }

  #text(sql: string): string {
    let t = this.#sql.get(sql);
    if (!t) {
      t = numberPlaceholders(sql);
      this.#sql.set(sql, t);
    }
    return t;
  }

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const r = await this.#pool.query(this.#text(sql), params as SqlValue[]);
    return r.rows as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const r = await this.#pool.query(this.#text(sql), params as SqlValue[]);
    return r.rowCount ?? 0;
  }

  async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const inner: Db = {
      dialect: 'postgres',
      query: async <R>(sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(this.#text(sql), params as SqlValue[])).rows as R[],
      run: async (sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(this.#text(sql), params as SqlValue[])).rowCount ?? 0,
      tx: () => Promise.reject(new Error('nested transactions are not supported')),
      close: () => Promise.resolve(),
    };
    try {
      await client.query('BEGIN');
      const result = await fn(inner);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Runs a multi-statement script (migrations), in one transaction. */
  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
