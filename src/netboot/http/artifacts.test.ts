/**
 * Large artifacts stream in shared chunks: byte ranges across chunk boundaries are exact, many
 * concurrent downloads of one image read each chunk from disk once, the chunk budget is kept,
 * and a file replaced on disk is served anew.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactDir, CHUNK_BYTES, sendArtifact } from './artifacts.ts';

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed + (i >> 12)) & 0xff;
  return b;
}

describe('large artifacts in shared chunks', () => {
  const root = mkdtempSync(join(tmpdir(), 'ingot-artifacts-'));
  const size = 2 * CHUNK_BYTES + 12345;
  let file = pattern(size, 1);
  let dir = new ArtifactDir(root, { maxCachedFile: 1024, chunkCacheBytes: 3 * CHUNK_BYTES });
  let server: http.Server;
  let url = '';
  const get = (headers: Record<string, string> = {}, name = 'img.raw') =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      http
        .get(`${url}/${name}`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });

  before(async () => {
    writeFileSync(join(root, 'img.raw'), file);
    server = http.createServer(async (req, res) => {
      const a = await dir.open((req.url ?? '').slice(1));
      if (!a) return res.writeHead(404).end();
      sendArtifact(req, res, a, 'application/octet-stream', dir);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the whole file and ranges across chunk boundaries byte for byte', async () => {
    assert.ok((await get()).body.equals(file));
    for (const [from, to] of [
      [CHUNK_BYTES - 10, CHUNK_BYTES + 9],
      [0, 2 * CHUNK_BYTES],
      [CHUNK_BYTES, CHUNK_BYTES],
      [size - 3, size - 1],
    ]) {
      const r = await get({ range: `bytes=${from}-${to}` });
      assert.equal(r.status, 206);
      assert.ok(r.body.equals(file.subarray(from, to + 1)), `bytes ${from}-${to}`);
    }
  });

  it('reads each chunk from disk once for 16 concurrent downloads', async () => {
    dir = new ArtifactDir(root, { maxCachedFile: 1024, chunkCacheBytes: 3 * CHUNK_BYTES });
    const all = await Promise.all(Array.from({ length: 16 }, () => get()));
    for (const r of all) assert.ok(r.body.equals(file));
    assert.equal(dir.chunkReads, 3, 'three chunks, each read once');
    await get();
    assert.equal(dir.chunkReads, 3, 'a later download comes from memory');
  });

  it('keeps to its chunk budget and, for a lone download of a bigger file, keeps the head the next one starts with', async () => {
    dir = new ArtifactDir(root, { maxCachedFile: 1024, chunkCacheBytes: CHUNK_BYTES });
    await get();
    assert.equal(dir.chunkReads, 3);
    await get();
    // Plain LRU would have kept the last chunk and read all three again.
    assert.equal(dir.chunkReads, 5, 'the second download reads all but the first chunk again');
  });

  it('recycles a chunk only once every socket sending it has taken it: a stalled client still gets its bytes', async () => {
    // No chunk budget: every chunk goes back to the free list as soon as its last writer is done.
    dir = new ArtifactDir(root, { maxCachedFile: 1024, chunkCacheBytes: 0 });
    const other = pattern(size, 3);
    writeFileSync(join(root, 'other.raw'), other);
    const stalled = new Promise<Buffer>((resolve, reject) => {
      http
        .get(`${url}/img.raw`, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.pause(); // the server's write of chunk 0 stays queued in user space meanwhile
          // Downloads of another file fill every recycled buffer with other bytes.
          void Promise.all(Array.from({ length: 4 }, () => get({}, 'other.raw'))).then((all) => {
            for (const r of all) assert.ok(r.body.equals(other));
            res.resume();
          }, reject);
        })
        .on('error', reject);
    });
    assert.ok((await stalled).equals(file), 'the stalled download is byte for byte the file');
    assert.ok(dir.chunkReads > 3, 'nothing was kept: chunks were read again into recycled buffers');
  });

  it('serves a file replaced on disk anew', async () => {
    dir = new ArtifactDir(root, { maxCachedFile: 1024, chunkCacheBytes: 3 * CHUNK_BYTES });
    await get();
    file = pattern(size + 7, 2);
    writeFileSync(join(root, 'img.raw'), file);
    const r = await get();
    assert.ok(r.body.equals(file));
  });
});
