/**
 * Artifacts (kernels, initrds, OS images, iPXE binaries) from a directory, with Range,
 * conditional requests and keep-alive. Node has no sendfile(2); what makes the throughput
 * sendfile-class is a bounded in-memory cache of hot files: a boot storm asks for the same
 * kernel and initrd hundreds of times, and writing a cached buffer costs one copy into the
 * socket, like sendfile, instead of a read plus a write. Files too big for it (OS images) are
 * read in 4 MiB chunks kept in a second LRU that every request streaming that file shares: a
 * rack deploying one image to many machines reads each chunk from disk once, and each request
 * reads the next chunk while the socket takes the current one. A file changed on disk (size or
 * mtime) is reloaded.
 */
import type { Stats } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { CHUNK_BYTES, ChunkCache, type ChunkLease } from './chunk-cache.ts';
import { parseRange } from './range.ts';

export { CHUNK_BYTES } from './chunk-cache.ts';

export interface Artifact {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly etag: string;
  /** The whole file, when cached. */
  readonly data: Buffer | null;
}

export interface ArtifactDirOptions {
  /** Total bytes kept in memory. @default 512 MiB */
  readonly cacheBytes?: number;
  /** Files larger than this stream from disk in shared chunks. @default 128 MiB */
  readonly maxCachedFile?: number;
  /** Bytes of large files' chunks kept in memory (0: read every chunk from disk). @default 256 MiB */
  readonly chunkCacheBytes?: number;
}

export class ArtifactDir {
  readonly root: string;
  readonly #cacheBytes: number;
  readonly #maxFile: number;
  readonly #cache = new Map<string, Artifact>();
  readonly #loading = new Map<string, Promise<Artifact>>();
  #cached = 0;
  /** Large files' chunks, shared by the requests streaming them. */
  readonly chunks: ChunkCache;

  constructor(root: string, o: ArtifactDirOptions = {}) {
    this.root = resolve(root);
    this.#cacheBytes = o.cacheBytes ?? 512 * 2 ** 20;
    this.#maxFile = Math.min(o.maxCachedFile ?? 128 * 2 ** 20, this.#cacheBytes);
    this.chunks = new ChunkCache(o.chunkCacheBytes ?? 256 * 2 ** 20);
  }

  /** Chunks read from disk so far (a chunk served from memory does not count). */
  get chunkReads(): number {
    return this.chunks.reads;
  }

  /**
   * The artifact at `rel` (URL-decoded, `/`-separated), or null if absent or outside the root.
   *
   * What may be served: files whose real path (all symlinks resolved) lies inside the root, or
   * inside what one of the root's top-level symlinks points at. Those top-level links are how
   * the dir is assembled — `ephemeral` → the boot image cache, the lab's `images` → the
   * region's, Debian's /usr/lib/ipxe/ipxe.efi → /boot — and only the operator or Ingot makes
   * them. A link below them that leads out (images/x.raw → /etc/shadow) is refused, as are
   * `..`, `.`, empty segments, backslashes and NUL, however the URL encoded them.
   */
  async open(rel: string): Promise<Artifact | null> {
    const parts = rel.split('/');
    if (rel.includes('\0') || rel.includes('\\') || parts.some((p) => p === '..' || p === '.' || p === ''))
      return null;
    const full = resolve(this.root, `.${sep}${rel}`);
    if (!full.startsWith(this.root + sep)) return null;
    let st: Stats;
    let real: string;
    try {
      real = await realpath(full);
      if (!(await this.#contains(parts[0], real))) return null;
      st = await stat(real);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const hit = this.#cache.get(full);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) {
      // LRU: re-insert so the oldest entry is first in iteration order.
      this.#cache.delete(full);
      this.#cache.set(full, hit);
      return hit;
    }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const meta = { path: real, size: st.size, mtimeMs: st.mtimeMs, etag };
    if (st.size > this.#maxFile) return { ...meta, data: null };
    let p = this.#loading.get(full);
    if (!p) {
      p = readFile(real).then((data) => this.#remember(full, { ...meta, size: data.length, data }));
      this.#loading.set(full, p);
      void p.finally(() => this.#loading.delete(full)).catch(() => undefined);
    }
    return p;
  }

  /** Whether `real` lies in the root, or in what the top-level entry `first` links to. */
  async #contains(first: string, real: string): Promise<boolean> {
    const within = (dir: string) => real === dir || real.startsWith(dir.endsWith(sep) ? dir : dir + sep);
    const root = await realpath(this.root);
    const top = join(this.root, first);
    if ((await lstat(top)).isSymbolicLink()) return within(await realpath(top));
    return real !== root && within(root);
  }

  #remember(key: string, a: Artifact): Artifact {
    const old = this.#cache.get(key);
    if (old) {
      this.#cached -= old.size;
      this.#cache.delete(key);
    }
    for (const [k, v] of this.#cache) {
      if (this.#cached + a.size <= this.#cacheBytes) break;
      this.#cache.delete(k);
      this.#cached -= v.size;
    }
    this.#cache.set(key, a);
    this.#cached += a.size;
    return a;
  }
}

export interface SendResult {
  readonly status: number;
  /** Bytes of body planned (the range length for 206). */
  readonly bytes: number;
  readonly range: string | null;
}

/** Answers GET/HEAD for `a` (from `dir`, which lends a large file's chunks); the caller has checked the method. */
export function sendArtifact(
  req: IncomingMessage,
  res: ServerResponse,
  a: Artifact,
  type: string,
  dir: Pick<ArtifactDir, 'chunks'>,
): SendResult {
  const lastModified = new Date(a.mtimeMs).toUTCString();
  const base: Record<string, string> = {
    'Content-Type': type,
    'Accept-Ranges': 'bytes',
    ETag: a.etag,
    'Last-Modified': lastModified,
    'Cache-Control': 'no-cache',
  };
  const inm = req.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim() === a.etag)) {
    res.writeHead(304, base).end();
    return { status: 304, bytes: 0, range: null };
  }
  // If-Range with a stale validator: send the whole (new) representation.
  const ifRange = req.headers['if-range'];
  const rangeHeader =
    ifRange && ifRange !== a.etag && ifRange !== lastModified ? undefined : req.headers.range;
  const r = parseRange(rangeHeader, a.size);
  if (r.kind === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'Content-Range': `bytes */${a.size}`, 'Content-Length': '0' }).end();
    return { status: 416, bytes: 0, range: rangeHeader ?? null };
  }
  const start = r.kind === 'partial' ? r.start : 0;
  const end = r.kind === 'partial' ? r.end : a.size - 1;
  const len = a.size === 0 ? 0 : end - start + 1;
  const status = r.kind === 'partial' ? 206 : 200;
  const headers: Record<string, string> = { ...base, 'Content-Length': String(len) };
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${a.size}`;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || len === 0) {
    res.end();
  } else if (a.data) {
    res.end(status === 206 ? a.data.subarray(start, end + 1) : a.data);
  } else {
    streamChunks(res, a, start, end, dir).catch(() => res.destroy());
  }
  return {
    status,
    bytes: req.method === 'HEAD' ? 0 : len,
    range: status === 206 ? (rangeHeader ?? null) : null,
  };
}

const TYPES: Record<string, string> = {
  ipxe: 'text/plain; charset=utf-8',
  efi: 'application/efi',
  iso: 'application/x-iso9660-image',
  img: 'application/octet-stream',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
};

export function contentType(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Writes bytes start..end of a large artifact chunk by chunk, reading the next one ahead. Each
 * chunk is borrowed from the cache until the socket has taken it (the write's callback), so
 * its buffer is recycled only once nothing still sends from it.
 */
async function streamChunks(
  res: ServerResponse,
  a: Artifact,
  start: number,
  end: number,
  dir: Pick<ArtifactDir, 'chunks'>,
): Promise<void> {
  const chunks = dir.chunks;
  const last = Math.floor(end / CHUNK_BYTES);
  const first = Math.floor(start / CHUNK_BYTES);
  const reader = chunks.reader(a, first);
  let ahead: Promise<ChunkLease> | null = null;
  try {
    for (let i = first, next = chunks.borrow(a, i, reader); ; i++) {
      ahead = next;
      const lease = await next;
      ahead = null;
      reader.at = i;
      if (i < last) {
        ahead = next = chunks.borrow(a, i + 1, reader);
        next.catch(() => undefined); // awaited on the next turn, or dropped if the client left
      }
      const base = i * CHUNK_BYTES;
      const part = lease.data.subarray(
        Math.max(0, start - base),
        Math.min(lease.data.length, end - base + 1),
      );
      if (res.destroyed) {
        chunks.release(lease);
        return;
      }
      if (!res.write(part, () => chunks.release(lease)) && !(await drained(res))) return;
      if (i === last) break;
    }
    res.end();
  } finally {
    chunks.end(reader);
    // The read-ahead of a stream that ended early (client gone, read failed) goes back too.
    ahead?.then(
      (l) => chunks.release(l),
      () => undefined,
    );
  }
}

/** Waits until the socket takes more (true) or the client is gone (false). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
