import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { ErrorCode, isIngotError } from '../core/errors.ts';
import { buildProgram } from './main.ts';
import { absolutePath, DEFAULT_DATA_DIR, defaultDataDir, PATH_OPTIONS, resolvePathOptions } from './paths.ts';

describe('CLI path options', () => {
  it('resolves a relative path against the working directory and keeps an absolute one', () => {
    assert.equal(absolutePath('--data', '.ingot', '/srv/repo'), '/srv/repo/.ingot');
    assert.equal(absolutePath('--data', './.ingot/../x', '/srv/repo'), '/srv/repo/x');
    assert.equal(absolutePath('--data', '/var/lib/ingot', '/srv/repo'), '/var/lib/ingot');
  });

  it('refuses an empty path, a NUL byte and an overlong path, naming the flag', () => {
    for (const bad of ['', 'a\0b', 'x'.repeat(4097)]) {
      assert.throws(
        () => absolutePath('--secret-key', bad, '/'),
        (e) => isIngotError(e, ErrorCode.Validation) && e.details.field === '--secret-key',
      );
    }
  });

  it('defaults the data dir to INGOT_DATA, else ./.ingot', () => {
    assert.equal(defaultDataDir({}), DEFAULT_DATA_DIR);
    assert.equal(defaultDataDir({ INGOT_DATA: 'elsewhere' }), 'elsewhere');
  });

  it('resolves only the path options of a command', () => {
    assert.deepEqual(resolvePathOptions({ data: '.ingot', out: 'o', name: 'lab', machines: '2' }, '/r'), {
      data: '/r/.ingot',
      out: '/r/o',
    });
  });

  it('hands every command absolute paths, given or defaulted, before its action runs', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ingot-paths-')));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const seen: Record<string, unknown>[] = [];
      const program = buildProgram();
      program
        .command('probe')
        .option('--data <dir>', 'data dir', defaultDataDir({}))
        .option('--secret-key <file>', 'key')
        .action((o) => {
          seen.push(o);
        });
      await program.parseAsync(['node', 'ingot', 'probe', '--secret-key', 'keys/k']);
      assert.deepEqual(seen[0], { data: join(dir, '.ingot'), secretKey: join(dir, 'keys/k') });
      await assert.rejects(
        program.parseAsync(['node', 'ingot', 'probe', '--data', '']),
        (e) => isIngotError(e, ErrorCode.Validation) && e.details.field === '--data',
      );
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('covers the path options of serve, rack and lab (their children run elsewhere)', () => {
    const program = buildProgram();
    const find = (path: string[]): Command =>
      path.reduce<Command>((c, name) => c.commands.find((s) => s.name() === name)!, program);
    for (const path of [
      ['serve'],
      ['rack'],
      ['lab', 'up'],
      ['lab', 'status'],
      ['lab', 'down'],
      ['image', 'build', 'os'],
    ]) {
      const cmd = find(path);
      for (const opt of cmd.options) {
        const looksLikePath = /<(dir|file)>/.test(opt.flags);
        if (looksLikePath)
          assert.ok(
            PATH_OPTIONS[opt.attributeName()] === opt.long,
            `${path.join(' ')} ${opt.long} names a path but is not in PATH_OPTIONS`,
          );
      }
    }
  });
});
