/**
 * The data dir holds the store (ingot.db and its -wal/-shm), the secret key, the first admin
 * token and logs: all of it is private to the service user, the dir 0700 and its files 0600.
 * Modes are set when Ingot creates them and corrected when an older version (or a plain
 * `mkdir`) left them readable by others.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Creates `dir` (and parents) as 0700, or takes group and other access away from an existing one. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
}

/** Creates `file` empty as 0600 unless it exists, and takes group and other access away from it. */
export function privateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  tighten(file, 0o600);
}

/** An SQLite database's files: SQLite creates -wal and -shm with the database file's mode. */
export function privateSqlite(file: string): void {
  privateFile(file);
  for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) tighten(extra, 0o600);
}

function tighten(path: string, mode: number): void {
  const st = statSync(path);
  // Only what this user owns: a data dir on a shared mount owned by root is left to root.
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return;
  if ((st.mode & 0o777) !== mode) chmodSync(path, mode);
}
