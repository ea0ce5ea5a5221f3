/**
 * docs/architecture.md stays true to the code: its "who imports whom" table names exactly the
 * src/ folders each folder imports (by its non-test files), and only the lab's own command
 * imports src/lab.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('..', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const DOMAINS = readdirSync(SRC, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Each production file's imports of other src/ folders: `file → domain`. */
function crossImports(): { file: string; from: string; to: string }[] {
  return sources(SRC).flatMap((file) => {
    const from = relative(SRC, file).split('/')[0];
    const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(
      (m) => m[1],
    );
    return specs
      .map((s) => relative(SRC, resolve(dirname(file), s)).split('/')[0])
      .filter((to) => to !== from && DOMAINS.includes(to))
      .map((to) => ({ file: relative(ROOT, file), from, to }));
  });
}

describe('docs/architecture.md', () => {
  it('names, for every src/ folder, exactly the folders it imports', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const documented = new Map<string, Set<string>>();
    for (const m of doc.matchAll(/^\| `src\/([a-z]+)\/` \|.*\| ([^|]*) \|$/gm))
      documented.set(m[1], new Set(DOMAINS.filter((d) => new RegExp(`\\b${d}\\b`).test(m[2]))));
    assert.deepEqual([...documented.keys()].sort(), [...DOMAINS].sort(), 'one table row per src/ folder');
    const actual = new Map(DOMAINS.map((d) => [d, new Set<string>()]));
    for (const i of crossImports()) actual.get(i.from)!.add(i.to);
    for (const d of DOMAINS)
      assert.deepEqual(
        [...documented.get(d)!].sort(),
        [...actual.get(d)!].sort(),
        `the imports of src/${d}/`,
      );
  });

  it('keeps production code off the lab: only the lab command imports src/lab', () => {
    const users = crossImports()
      .filter((i) => i.to === 'lab')
      .map((i) => i.file);
    assert.deepEqual([...new Set(users)], ['src/cli/commands/lab.ts']);
  });
});
