/**
 * The thin SQL seam under the store. Both backends speak the same SQL (written with `?`
 * placeholders; the PostgreSQL adapter numbers them), so the store and its migrations are
 * written once. Only src/store speaks SQL.
 */
export type Dialect = 'sqlite' | 'postgres';
export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

export interface Db {
  readonly dialect: Dialect;
  /** Runs a statement and returns its rows (use RETURNING to read back writes). */
  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs `fn` in one transaction; a throw rolls everything back. Not re-entrant. */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Rewrites `?` placeholders to `$1, $2…` outside string literals (PostgreSQL). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let out = '';
  let inString = false;
  for (const ch of sql) {
    if (ch === "'") inString = !inString;
    if (ch === '?' && !inString) out += `$${++n}`;
    else out += ch;
  }
  return out;
}
