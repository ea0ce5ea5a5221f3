/**
 * A clone must carry everything its tests, benchmarks and scripts read: nothing in them may
 * reach into a `shared/` folder beside the checkout (the team's own machines have one, a
 * newcomer's clone and CI's do not). Fixtures live in test/fixtures/ with their licences.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
  for (const dir of [
    'test/fixtures/redfish/dmtf-public-rackmount1',
    ...['metallb', 'cilium', 'calico', 'helm-controller', 'longhorn', 'rook'].map(
      (p) => `test/fixtures/crds/${p}`,
    ),
  ]) {
    const abs = path.join(ROOT, dir);
    assert.ok(
      existsSync(path.join(abs, 'LICENSE')) || existsSync(path.join(abs, 'LICENSE.md')),
      `${dir} has no LICENSE`,
    );
    assert.ok(existsSync(path.join(abs, 'SOURCE.md')), `${dir} has no SOURCE.md`);
  }
});
