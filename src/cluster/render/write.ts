import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Artifact } from './context.ts';

const INDEX = '.ingot-render.json';

/**
 * Writes artifacts under `dir` and removes files an earlier render wrote that this one did not
 * (a node left the plan), so the directory always mirrors exactly one render.
 */
export function writeArtifacts(dir: string, artifacts: readonly Artifact[]): void {
  mkdirSync(dir, { recursive: true });
  const indexPath = join(dir, INDEX);
  const previous: string[] = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : [];
  const now = new Set(artifacts.map((a) => a.path));
  const before = new Set(previous);
  for (const p of previous) {
    if (now.has(p) || p.includes('..')) continue;
    rmSync(join(dir, p), { force: true });
    const parent = dirname(join(dir, p));
    if (parent !== dir && existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
  }
  const made = new Set<string>();
  for (const a of artifacts) {
    const p = join(dir, a.path);
    const parent = dirname(p);
    if (!made.has(parent)) mkdirSync(parent, { recursive: true });
    made.add(parent);
    const existed = before.has(a.path);
    writeFileSync(p, a.content, { mode: a.mode });
    if (existed) chmodSync(p, a.mode); // writeFileSync keeps an existing file's mode
  }
  writeFileSync(indexPath, `${JSON.stringify([...now].sort(), null, 2)}\n`);
}
