import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { skipUnless } from '../../../test/support/needs.ts';
import { detectCompression } from '../detect.ts';
import { zstdCopy } from './compress.ts';

describe('the zstd copy of a built OS image', { skip: skipUnless({ programs: ['zstd'] }) }, () => {
  it('decompresses to the image, carries its own SHA-256, and is made once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingot-zst-'));
    try {
      const image = join(dir, 'disk.raw');
      // Mostly zeros, like a fresh raw image: it must come out much smaller.
      writeFileSync(image, Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(4 * 2 ** 20)]));
      const lines: string[] = [];
      const z = await zstdCopy(image, (l) => lines.push(l));
      assert.equal(z.file, `${image}.zst`);
      const packed = readFileSync(z.file);
      assert.equal(detectCompression(packed), 'zst');
      assert.equal(z.sha256, createHash('sha256').update(packed).digest('hex'));
      assert.ok(packed.length < statSync(image).size / 4);
      assert.ok(
        execFileSync('zstd', ['-dc', z.file], { maxBuffer: 64 * 2 ** 20 }).equals(readFileSync(image)),
      );
      assert.equal(lines.length, 1);
      const mtime = statSync(z.file).mtimeMs;
      assert.deepEqual(await zstdCopy(image, (l) => lines.push(l)), z);
      assert.equal(statSync(z.file).mtimeMs, mtime, 'the second call reuses the copy');
      assert.equal(lines.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
