/**
 * Large artifacts' chunks: read from disk once, shared by every request streaming the file,
 * kept in an LRU within a byte budget, and their buffers recycled. Recycling is what keeps a
 * lone stream fast: a fresh 4 MiB buffer per chunk made V8 account ~1 GiB/s of new external
 * memory and run a mark-compact every ~25 ms, 20–40% of the main thread for one client
 * (docs/bench-netboot.md). A chunk is lent out (`borrow`) to a request until its socket write
 * has completed (`release`); once neither the LRU nor any request holds it, its buffer goes to
 * a small free list and the next read fills it. A lent chunk that is never given back (a
 * request that died without its write callback) is simply garbage collected.
 *
 * Plain LRU is the worst policy for one client streaming an image larger than the budget: it
 * evicts the oldest chunks, exactly those the next download of that image starts with, so
 * machines deploying one after another never hit. So a chunk that would evict a chunk of its
 * own file is kept only if another request streaming that file is behind it (will read it);
 * otherwise it streams through a recycled buffer and the file's head stays in memory.
 */
import { open as openFile } from 'node:fs/promises';

/** The unit large files are read, cached and shared in. */
export const CHUNK_BYTES = 4 * 2 ** 20;

/** Recycled buffers kept at most (beyond the budget): 32 MiB. */
const FREE_MAX = 8;

/** Which file, at which version: a file changed on disk (size or mtime) gets new chunks. */
export interface ChunkSource {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A chunk lent to a request: `data` stays unchanged until the lease goes back (`release`). */
export interface ChunkLease {
  readonly data: Buffer;
}

/** A request streaming a file, and the chunk it is sending. */
export interface ChunkReader {
  readonly file: string;
  at: number;
}

interface Slot extends ChunkLease {
  readonly buf: Buffer;
  readonly file: string;
  /** The LRU's hold (one) plus one per lease not yet given back. */
  refs: number;
}

interface Loading {
  readonly promise: Promise<Slot>;
  /** Leases asked for before the read finished: the slot starts with that many refs. */
  waiters: number;
}

const fileKey = (src: ChunkSource) => `${src.path}\0${src.size}\0${src.mtimeMs}`;

export class ChunkCache {
  readonly #budget: number;
  readonly #lru = new Map<string, Slot>();
  readonly #loading = new Map<string, Loading>();
  readonly #free: Buffer[] = [];
  readonly #readers = new Map<string, Set<ChunkReader>>();
  #bytes = 0;
  /** Chunks read from disk so far (a chunk served from memory does not count). */
  reads = 0;

  /** `budget`: bytes of chunks the LRU keeps (0: read every chunk from disk for every request). */
  constructor(budget: number) {
    this.#budget = budget;
  }

  /** A request starts streaming `src` at chunk `at`; `end` it when it stops. */
  reader(src: ChunkSource, at: number): ChunkReader {
    const r = { file: fileKey(src), at };
    const set = this.#readers.get(r.file) ?? new Set<ChunkReader>();
    this.#readers.set(r.file, set);
    set.add(r);
    return r;
  }

  end(r: ChunkReader): void {
    const set = this.#readers.get(r.file);
    set?.delete(r);
    if (set?.size === 0) this.#readers.delete(r.file);
  }

  /**
   * Lends chunk `i` of `src` to `by`; concurrent asks share one read. Give it back with
   * `release`.
   */
  borrow(src: ChunkSource, i: number, by?: ChunkReader): Promise<ChunkLease> {
    const file = fileKey(src);
    const key = `${file}\0${i}`;
    const hit = this.#lru.get(key);
    if (hit) {
      this.#lru.delete(key);
      this.#lru.set(key, hit);
      hit.refs++;
      return Promise.resolve(hit);
    }
    const pending = this.#loading.get(key);
    if (pending) {
      pending.waiters++;
      return pending.promise;
    }
    this.reads++;
    const pos = i * CHUNK_BYTES;
    const buf = this.#free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    const loading: Loading = {
      // All in one synchronous step once the read is done: every lease asked for so far is
      // counted before anything else can evict (and recycle) the slot.
      promise: readInto(src.path, buf, pos, Math.min(CHUNK_BYTES, src.size - pos)).then(
        (data) => {
          this.#loading.delete(key);
          const slot: Slot = { buf, data, file, refs: loading.waiters };
          this.#remember(key, slot, i, by);
          return slot;
        },
        (e: unknown) => {
          this.#loading.delete(key);
          this.#recycle(buf);
          throw e;
        },
      ),
      waiters: 1,
    };
    this.#loading.set(key, loading);
    return loading.promise;
  }

  /** Gives a lease back: its socket write has completed (or will never happen). */
  release(lease: ChunkLease): void {
    const slot = lease as Slot;
    if (--slot.refs === 0) this.#recycle(slot.buf);
  }

  /** Whether a request streaming `file`, other than `by`, has chunk `i` still ahead of it. */
  #wanted(file: string, i: number, by: ChunkReader | undefined): boolean {
    for (const r of this.#readers.get(file) ?? []) if (r !== by && r.at < i) return true;
    return false;
  }

  #recycle(buf: Buffer): void {
    if (this.#free.length < FREE_MAX) this.#free.push(buf);
  }

  #remember(key: string, slot: Slot, i: number, by: ChunkReader | undefined): void {
    if (slot.data.length > this.#budget) return;
    const victim = this.#lru.values().next().value;
    if (
      victim?.file === slot.file &&
      this.#bytes + slot.data.length > this.#budget &&
      !this.#wanted(slot.file, i, by)
    )
      return;
    for (const [k, v] of this.#lru) {
      if (this.#bytes + slot.data.length <= this.#budget) break;
      this.#lru.delete(k);
      this.#bytes -= v.data.length;
      this.release(v);
    }
    this.#lru.set(key, slot);
    this.#bytes += slot.data.length;
    slot.refs++;
  }
}

/** Reads `len` bytes at `pos` into `buf`; a file that got shorter underneath is an error. */
async function readInto(path: string, buf: Buffer, pos: number, len: number): Promise<Buffer> {
  const fh = await openFile(path, 'r');
  try {
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
      if (bytesRead === 0) throw new Error(`${path} is shorter than when it was opened`);
      got += bytesRead;
    }
    return buf.subarray(0, len);
  } finally {
    await fh.close();
  }
}
