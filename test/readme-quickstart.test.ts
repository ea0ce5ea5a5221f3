/**
 * The README's quick start is what the repository provides: its two commands exist and do what
 * the README says, CI installs the same way, and `npm install` builds the web console so that
 * `ingot serve` serves it right away (the build runs here into a temporary directory, with the
 * exact command npm's `prepare` runs).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerUi } from '../src/api/ui.ts';
import { skipUnless } from './support/needs.ts';
import { REPO_ROOT, readmeSection, shellCommands, stripComment } from './support/readme.ts';

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const read = (f: string) => readFileSync(path.join(REPO_ROOT, f), 'utf8');

describe('README quick start', () => {
  it('reads commands from the README as a shell would', () => {
    assert.equal(stripComment('npm test     # the whole suite'), 'npm test');
    assert.equal(stripComment("echo 'a # b' # c"), "echo 'a # b'");
    assert.equal(stripComment('x=$(echo a#b) # c'), 'x=$(echo a#b)');
    assert.equal(stripComment('ssh a@b#c'), 'ssh a@b#c');
  });

  it('has two commands: the quick-start script and the test command, both provided', () => {
    const cmds = shellCommands(readmeSection('Quick start')).slice(0, 2);
    assert.deepEqual(cmds, ['./scripts/quickstart.sh', 'npm test']);
    accessSync(path.join(REPO_ROOT, 'scripts/quickstart.sh'), constants.X_OK);
    assert.match(read('scripts/quickstart.sh'), /^sh scripts\/install\.sh$/m);
    assert.match(read('scripts/quickstart.sh'), /^exec bin\/ingot serve "\$@"$/m);
    // `npm test` runs the type check, the lint and every test file of src/ and test/.
    assert.match(pkg.scripts.test, /tsc --noEmit/);
    assert.match(pkg.scripts.test, /biome check/);
    assert.match(pkg.scripts.test, /&& node scripts\/test\.ts$/);
    // …whose runner takes every test file of src/ and test/, each with node --test.
    const runner = read('scripts/test.ts');
    assert.match(runner, /globSync\('src\/\*\*\/\*\.test\.ts'\)/);
    assert.match(runner, /globSync\('test\/\*\*\/\*\.test\.ts'\)/);
    assert.match(runner, /\['--test', '--test-reporter=spec', file\.path\]/);
  });

  it('CI installs as the quick start does and runs the README’s test command', () => {
    const ci = read('.ci/run');
    assert.match(ci, /^sh scripts\/install\.sh$/m);
    assert.match(ci, /^npm test$/m);
    assert.match(read('scripts/install.sh'), /^npm install --no-audit --no-fund$/m);
  });

  it('npm install is quiet under the machine’s own npm and Node (no EBADENGINE warnings)', {
    skip: skipUnless({ files: { npm: '/usr/bin/npm', nodejs: '/usr/bin/node' } }),
  }, () => {
    // The quick start runs Debian's npm under Debian's Node (20) while the project brings Node 24:
    // without the repository's .npmrc npm warns about every package's engines (55 lines).
    const npm = spawnSync(
      '/usr/bin/npm',
      ['install', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: '/usr/bin:/bin' },
      },
    );
    assert.equal(npm.status, 0, npm.stderr);
    assert.doesNotMatch(`${npm.stdout}${npm.stderr}`, /EBADENGINE|npm warn/i);
  });

  it('npm install builds the console, and ingot serve serves it at /', async () => {
    assert.equal(pkg.scripts.prepare, 'npm run ui:build');
    const [bin, ...args] = pkg.scripts['ui:build'].split(' ');
    const out = mkdtempSync(path.join(tmpdir(), 'ingot-ui-'));
    const app = Fastify();
    try {
      execFileSync(
        path.join(REPO_ROOT, 'node_modules/.bin', bin),
        [...args, '--outDir', out, '--emptyOutDir'],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, PATH: `${path.join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      await registerUi(app, out);
      const index = await app.inject({ method: 'GET', url: '/' });
      assert.equal(index.statusCode, 200);
      assert.match(index.headers['content-type'] as string, /^text\/html/);
      assert.match(index.body, /<div id="root"><\/div>/);
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
      assert.ok(script, `no built script in ${index.body}`);
      const js = await app.inject({ method: 'GET', url: script });
      assert.equal(js.statusCode, 200);
      assert.ok(js.body.length > 10_000, 'the console bundle is there');
    } finally {
      await app.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('an unbuilt console says how to build it', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'ingot-ui-'));
    const app = Fastify();
    try {
      await registerUi(app, empty);
      const r = await app.inject({ method: 'GET', url: '/' });
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /npm run ui:build/);
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
