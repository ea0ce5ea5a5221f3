/**
 * The served files' bytes, kept in memory while each file is unchanged (same device, inode,
 * size and modification time), so a request costs at most one stat instead of the open, stat,
 * read and close of a fresh read (each a trip through libuv's thread pool: most of a small boot
 * file's time to first packet on the server's side). A file checked less than `maxAgeMs` ago is
 * served without a stat at all: in a boot storm the requests skip the thread pool, which the
 * rack's HTTP artifact reads share, and a replaced file is picked up within that time. Holds
 * only the files it was asked for: the server asks only for names on its allow list (the iPXE
 * binaries, under a megabyte each).
 */
import { readFile, stat } from 'node:fs/promises';

export class FileCache {
  #files = new Map<string, { id: string; data: Buffer; checked: number }>();
  #maxAgeMs: number;

  constructor(opts: { maxAgeMs?: number } = {}) {
    this.#maxAgeMs = opts.maxAgeMs ?? 1000;
  }

  /** The file's bytes; rejects when it is missing or not a regular file. */
  async read(path: string): Promise<Buffer> {
    const known = this.#files.get(path);
    if (known && performance.now() - known.checked < this.#maxAgeMs) return known.data;
    const checked = performance.now();
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a file`);
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    if (known?.id === id) {
      known.checked = checked;
      return known.data;
    }
    const data = await readFile(path);
    this.#files.set(path, { id, data, checked });
    return data;
  }
}
