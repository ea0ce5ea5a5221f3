import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Db, Row, SqlValue } from './db.ts';

/**
 * node:sqlite behind the Db seam. node:sqlite is synchronous and there is one connection,
 * so every operation goes through one queue: a transaction's awaits cannot interleave with
 * another caller's statements. WAL with synchronous=NORMAL: a commit survives a process
 * kill (the WAL is written before COMMIT returns); only an OS crash may lose the last ones.
 */
export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA foreign_keys = ON');
    this.#db.exec('PRAGMA busy_timeout = 5000');
  }

  #stmt(sql: string): StatementSync {
    let s = this.#cache.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }

  #enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #queryNow<T>(sql: string, params: readonly SqlValue[]): T[] {
    return this.#stmt(sql).all(...params) as T[];
  }

  #runNow(sql: string, params: readonly SqlValue[]): number {
    return Number(this.#stmt(sql).run(...params).changes);
  }

  query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#enqueue(() => this.#queryNow<T>(sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#enqueue(() => this.#runNow(sql, params));
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#enqueue(async () => {
      const inner: Db = {
        dialect: 'sqlite',
        query: async <R>(sql: string, params: readonly SqlValue[] = []) => this.#queryNow<R>(sql, params),
        run: async (sql: string, params: readonly SqlValue[] = []) => this.#runNow(sql, params),
        tx: () => Promise.reject(new Error('nested transactions are not supported')),
        close: () => Promise.resolve(),
      };
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(inner);
        this.#db.exec('COMMIT');
        return result;
      } catch (e) {
        this.#db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  /** Runs a multi-statement script (migrations). */
  exec(sql: string): Promise<void> {
    return this.#enqueue(() => this.#db.exec(sql));
  }

  close(): Promise<void> {
    return this.#enqueue(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#cache.clear();
      this.#db.close();
    });
  }
}
