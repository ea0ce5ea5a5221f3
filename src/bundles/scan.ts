/**
 * One pass over a file: its SHA-256, its size, its first bytes (for the ELF header) and
 * whether it contains given byte strings (a Kubernetes binary carries its version string,
 * set at build time with `-X k8s.io/component-base/version.gitVersion=…`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileScan {
  readonly sha256: string;
  readonly size: number;
  /** The first 64 bytes (fewer for a shorter file). */
  readonly head: Buffer;
  /** Which of the needles occur in the file. */
  readonly found: ReadonlySet<string>;
}

export async function scanFile(path: string, needles: readonly string[] = []): Promise<FileScan> {
  const hash = createHash('sha256');
  const wanted = needles.filter((n) => n.length > 0).map((n) => ({ n, b: Buffer.from(n) }));
  const overlap = Math.max(0, ...wanted.map((w) => w.b.length)) - 1;
  const found = new Set<string>();
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 })) {
    const b = chunk as Buffer;
    hash.update(b);
    size += b.length;
    if (head.length < 64) head = Buffer.concat([head, b.subarray(0, 64 - head.length)]);
    if (found.size < wanted.length) {
      // Search the end of the previous chunk together with this one: a needle may straddle them.
      const window = tail.length ? Buffer.concat([tail, b]) : b;
      for (const w of wanted) if (!found.has(w.n) && window.includes(w.b)) found.add(w.n);
      tail = overlap > 0 ? Buffer.from(window.subarray(Math.max(0, window.length - overlap))) : tail;
    }
  }
  return { sha256: hash.digest('hex'), size, head, found };
}
