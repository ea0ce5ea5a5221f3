/**
 * A clone must carry everything its tests, benchmarks and scripts read: nothing in them may
 * reach into a `shared/` folder beside the checkout (the team's own machines have one, a
 * newcomer's clone and CI's do not). Fixtures live in test/fixtures/ with their licences.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const SHARED = ['shared', ''].join('/');
/** A relative path up into a sibling `shared` folder, written out or as path segments joined in code. */
const READS_SHARED = new RegExp(`(\\.\\./)+${SHARED}|'\\.\\.',\\s*'shared'`);

test('no test, bench, script or source file reads ../shared', () => {
  const files = execFileSync('git', ['ls-files', 'src', 'test', 'bench', 'scripts', '.ci', 'ui/src'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.startsWith('test/fixtures/') && f !== 'test/repo-self-contained.test.ts')
    .filter((f) => existsSync(path.join(ROOT, f)));
  assert.ok(files.length > 100, `git ls-files found only ${files.length} files`);
  const offenders = files.filter((f) => READS_SHARED.test(readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('every fixture folder keeps its upstream licence and a SOURCE note', () => {
  // A fixture is a folder of test/fixtures/ holding a LICENSE, or, for a folder of several
  // upstreams (crds/), each of its sub-folders: a new one without its notes fails here.
  const FIXTURES = path.join(ROOT, 'test/fixtures');
  const licensed = (dir: string) =>
    existsSync(path.join(dir, 'LICENSE')) || existsSync(path.join(dir, 'LICENSE.md'));
  const fixtures: string[] = [];
  for (const top of readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const dir = path.join(FIXTURES, top.name);
    if (licensed(dir)) fixtures.push(dir);
    else
      for (const sub of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()))
        fixtures.push(path.join(dir, sub.name));
  }
  for (const p of ['redfish/dmtf-public-rackmount1', 'crds/metallb', 'smartctl'])
    assert.ok(fixtures.includes(path.join(FIXTURES, p)), `${p} is one of the fixtures`);
  for (const abs of fixtures) {
    const dir = path.relative(ROOT, abs);
    assert.ok(licensed(abs), `${dir} has no LICENSE`);
    assert.ok(existsSync(path.join(abs, 'SOURCE.md')), `${dir} has no SOURCE.md`);
  }
});
