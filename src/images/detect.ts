/**
 * What a file is, from its first bytes: compression by magic number (gzip, xz, zstd), disk
 * format by magic (qcow2 `QFI\xfb`, else raw), and a qcow2's virtual size from its header.
 * For a compressed file the inner format is read by decompressing the first chunk.
 */
import { spawn } from 'node:child_process';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { Compression, ImageFormat } from '../core/image.ts';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zst';
  return 'none';
}

export function detectFormat(head: Buffer): ImageFormat {
  return head.length >= 4 && head.readUInt32BE(0) === 0x514649fb ? 'qcow2' : 'raw';
}

/** A qcow2 header's virtual disk size (bytes 24..31, big-endian), or null. */
export function qcow2VirtualSize(head: Buffer): number | null {
  if (detectFormat(head) !== 'qcow2' || head.length < 32) return null;
  return Number(head.readBigUInt64BE(24));
}

/**
 * The first bytes of the decompressed content of `head` (the start of a compressed file), or
 * null when they cannot be had in time. Truncated input is expected: only the output so far counts.
 */
export function peekDecompressed(head: Buffer, compression: Compression, want = 512): Promise<Buffer | null> {
  if (compression === 'none') return Promise.resolve(head.subarray(0, want));
  return new Promise((resolve) => {
    let out = Buffer.alloc(0);
    let settled = false;
    const finish = (b: Buffer | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(b && b.length > 0 ? b.subarray(0, want) : null);
    };
    const timer = setTimeout(() => finish(out), 5000);
    const onData = (b: Buffer) => {
      out = Buffer.concat([out, b]);
      if (out.length >= want) finish(out);
    };
    if (compression === 'xz') {
      const child = spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
      child.stdout.on('data', onData);
      child.on('close', () => finish(out));
      child.on('error', () => finish(null));
      child.stdin.on('error', () => {});
      child.stdin.end(head);
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    } else {
      const d = compression === 'gz' ? createGunzip() : createZstdDecompress();
      d.on('data', onData);
      d.on('error', () => finish(out));
      d.on('end', () => finish(out));
      d.end(head);
    }
  });
}
