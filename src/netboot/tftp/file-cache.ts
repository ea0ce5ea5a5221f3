/**
 * The served files' bytes, kept in memory while each file is unchanged (same device, inode,
 * size and modification time), so a request costs one stat instead of the open, stat, read and
 * close of a fresh read (each a trip through libuv's thread pool: most of a small boot file's
 * fetch time on the server's side). Holds only the files it was asked for: the server asks
 * only for names on its allow list (the iPXE binaries, under a megabyte each).
 */
import { readFile, stat } from 'node:fs/promises';

export class FileCache {
  #files = new Map<string, { id: string; data: Buffer }>();

  /** The file's bytes; rejects when it is missing or not a regular file. */
  async read(path: string): Promise<Buffer> {
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a file`);
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = this.#files.get(path);
    if (known?.id === id) return known.data;
    const data = await readFile(path);
    this.#files.set(path, { id, data });
    return data;
  }
}
