/**
 * The served files kept in memory: the same bytes for an unchanged file without reading it
 * again, the new bytes once it changes (checked again only after maxAgeMs), and a refusal for
 * what is missing or not a file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileCache } from './file-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'ingot-tftp-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('TFTP file cache', () => {
  it('hands out the same buffer while the file is unchanged', async () => {
    const path = join(dir, 'same.kpxe');
    writeFileSync(path, 'one');
    const files = new FileCache({ maxAgeMs: 0 });
    const a = await files.read(path);
    assert.equal(a.toString(), 'one');
    assert.equal(await files.read(path), a);
  });

  it('reads the file again once it changed, even to the same size', async () => {
    const path = join(dir, 'changed.kpxe');
    writeFileSync(path, 'one');
    utimesSync(path, 1_000_000, 1_000_000);
    const files = new FileCache({ maxAgeMs: 0 });
    assert.equal((await files.read(path)).toString(), 'one');
    writeFileSync(path, 'two');
    utimesSync(path, 1_000_100, 1_000_100);
    assert.equal((await files.read(path)).toString(), 'two');
  });

  it('serves a file checked within maxAgeMs without looking at it again', async () => {
    const path = join(dir, 'recent.kpxe');
    writeFileSync(path, 'one');
    const files = new FileCache({ maxAgeMs: 60_000 });
    assert.equal((await files.read(path)).toString(), 'one');
    writeFileSync(path, 'two');
    utimesSync(path, 1_000_100, 1_000_100);
    assert.equal((await files.read(path)).toString(), 'one');
    assert.equal((await new FileCache({ maxAgeMs: 60_000 }).read(path)).toString(), 'two');
  });

  it('rejects a missing file and a directory', async () => {
    const files = new FileCache();
    await assert.rejects(files.read(join(dir, 'missing.kpxe')));
    mkdirSync(join(dir, 'sub'));
    await assert.rejects(files.read(join(dir, 'sub')));
  });
});
