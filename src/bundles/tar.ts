/**
 * Tar archives with GNU tar: a bundle tarball (gzip, xz, zstd or none: tar detects which from
 * the bytes) is unpacked into a directory the import owns, and an image archive's member list
 * and small members are read without unpacking it.
 *
 * Unpacking untrusted archives: GNU tar drops leading `/`, refuses members with `..`, and
 * creates symlinks whose targets leave the tree only after everything else (so no member is
 * written through one). The reader then opens only regular files it finds with lstat inside
 * the tree; nothing unpacked is ever served as is.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { runTool, ToolFailed } from './tool.ts';

/** Whether the file starts like a tar archive (ustar magic) or a compressed stream tar can read. */
export function looksLikeTar(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = readSync(fd, b, 0, 512, 0);
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
    if (n >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true; // xz
    if (n >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return true; // zstd
    if (n >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return true;
    return n === 512 && b.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    closeSync(fd);
  }
}

/** Unpacks `file` into `dir` (which must exist). `shownAs` names the file in errors. */
export async function extractTar(
  file: string,
  dir: string,
  shownAs: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await runTool(
      'tar',
      ['-x', '-f', file, '-C', dir, '--no-same-owner', '--no-same-permissions', '--delay-directory-restore'],
      { signal },
    );
  } catch (e) {
    if (e instanceof ToolFailed)
      throw new IngotError(
        ErrorCode.Validation,
        `${shownAs}: cannot unpack (${tarReason(e.stderr)}); the archive is truncated or corrupt`,
        { details: { field: shownAs } },
      );
    throw e;
  }
}

/** What GNU tar said went wrong, without its closing boilerplate ("Error is not recoverable"). */
export function tarReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^tar: /, '').trim())
    .filter((l) => l && !/not recoverable|Exiting with failure status/.test(l));
  return (lines[0] ?? stderr.trim()).slice(0, 300);
}

/** Member names of an (uncompressed) tar archive, without a leading `./`. */
export async function listTar(file: string, signal?: AbortSignal): Promise<string[]> {
  const out = await runTool('tar', ['-t', '-f', file], { signal, maxBuffer: 64 * 2 ** 20 });
  return out
    .split('\n')
    .filter(Boolean)
    .map((n) => n.replace(/^\.\//, ''));
}

/** One member's content (small members only: manifests and indexes). */
export async function readTarMember(file: string, member: string, signal?: AbortSignal): Promise<string> {
  try {
    return await runTool('tar', ['-x', '-O', '-f', file, member], { signal, maxBuffer: 4 * 2 ** 20 });
  } catch (e) {
    if (e instanceof ToolFailed) {
      // Archives written with a `./` prefix.
      return runTool('tar', ['-x', '-O', '-f', file, `./${member}`], { signal, maxBuffer: 4 * 2 ** 20 });
    }
    throw e;
  }
}
