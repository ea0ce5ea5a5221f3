/**
 * Tar archives with GNU tar: a bundle (gzip, xz, zstd, bzip2 or none) is unpacked as it
 * arrives into a directory the import owns, release tarballs inside it likewise, and an image
 * archive's member list and small members are read without unpacking it.
 *
 * Unpacking untrusted archives: GNU tar drops leading `/`, refuses members with `..`, and
 * creates symlinks whose targets leave the tree only after everything else (so no member is
 * written through one). The reader then opens only regular files it finds with lstat inside
 * the tree; nothing unpacked is ever served as is.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { runTool, ToolFailed } from './tool.ts';

/**
 * How a tar stream starting with `head` is compressed, as GNU tar's flag (`''` for none), or
 * null when it is neither a tar archive (ustar magic) nor a compressed stream. GNU tar tells the
 * compression from a file's bytes but not from a pipe, so a stream needs the flag.
 */
export function tarCompression(head: Buffer): string | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return '-z';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return '-J';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return '--zstd';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return '-j';
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar' ? '' : null;
}

const SAFE = ['--no-same-owner', '--no-same-permissions', '--delay-directory-restore'];

/**
 * Unpacks a tar stream into `dir` (which must exist) as it arrives, hashing it on the way: the
 * bundle is never written to disk as one file. Throws a validation error naming `shownAs` when
 * the stream is not a tar or tar fails (truncated, corrupt).
 */
export async function extractStream(
  body: AsyncIterable<Buffer | Uint8Array>,
  dir: string,
  shownAs: string,
  o: { signal: AbortSignal; maxBytes: number; onBytes?: (n: number) => void },
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  let tar: ChildProcessByStdio<Writable, null, Readable> | null = null;
  let stderr = '';
  let exited: Promise<number | null> = Promise.resolve(0);
  const start = (flag: string) => {
    const child = spawn('tar', ['-x', '-f', '-', '-C', dir, ...(flag ? [flag] : []), ...SAFE], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdin.on('error', () => {}); // tar gave up early: its exit status says why
    exited = new Promise((resolve, reject) => {
      child.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ENOENT'
            ? new IngotError(
                ErrorCode.Config,
                'reading bundles needs tar on the region’s host: apt-get install tar',
              )
            : e,
        ),
      );
      child.on('close', (code) => resolve(code));
    });
    return child;
  };
  const notTar = () =>
    new IngotError(
      ErrorCode.Validation,
      `${shownAs}: is not a tar archive; give the release tarball (kubernetes-server-linux-amd64.tar.gz), a bundle directory (the CLI packs it) or a tarball of one`,
      { details: { field: shownAs } },
    );
  const write = async (b: Buffer) => {
    const stdin = tar!.stdin;
    if (stdin.write(b)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done).off('close', done);
        resolve();
      };
      stdin.on('drain', done).on('close', done);
    });
  };
  try {
    for await (const chunk of body) {
      if (o.signal.aborted)
        throw new IngotError(ErrorCode.Conflict, 'the import was cancelled (bundle removed)');
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += b.length;
      if (size > o.maxBytes)
        throw new IngotError(ErrorCode.Validation, `the bundle is larger than ${o.maxBytes / 2 ** 30} GiB`);
      hash.update(b);
      o.onBytes?.(size);
      if (tar) {
        await write(b);
        continue;
      }
      head = Buffer.concat([head, b]);
      if (head.length < 512) continue;
      const flag = tarCompression(head);
      if (flag === null) throw notTar();
      tar = start(flag);
      await write(head);
    }
    if (!tar) {
      const flag = tarCompression(head);
      if (size === 0) throw new IngotError(ErrorCode.Validation, 'the bundle is empty (0 bytes)');
      if (flag === null) throw notTar();
      tar = start(flag);
      await write(head);
    }
    tar.stdin.end();
    const code = await exited;
    if (code !== 0)
      throw new IngotError(
        ErrorCode.Validation,
        `${shownAs}: cannot unpack (${tarReason(stderr)}); the archive is truncated or corrupt`,
        { details: { field: shownAs } },
      );
    return { sha256: hash.digest('hex'), size };
  } finally {
    if (tar && tar.exitCode === null) tar.kill('SIGKILL');
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
    await runTool('tar', ['-x', '-f', file, '-C', dir, ...SAFE], { signal });
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
