/**
 * Temporary directories of one test file, removed when its tests end (a rendered cluster holds
 * keys and kubeconfigs: none is left in the host's tmp). Call at the top of a file or suite:
 * the removal is that level's `after` hook, so it runs whether the tests passed or not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export function scratchDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (prefix) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
