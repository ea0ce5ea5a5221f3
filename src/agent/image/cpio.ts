/**
 * A minimal cpio "newc" writer, enough for an initramfs: directories, files, symlinks and
 * character devices, owned by root, with fixed timestamps so the same inputs give the same
 * bytes (the image cache is keyed by its inputs). Writing it here needs neither root (mknod)
 * nor the cpio tool.
 */

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function record(
  ino: number,
  name: string,
  mode: number,
  data: Buffer,
  rdev = { major: 0, minor: 0 },
): Buffer[] {
  const nameBuf = Buffer.from(`${name}\0`);
  const header = Buffer.from(
    [
      '070701',
      hex8(ino),
      hex8(mode),
      hex8(0), // uid
      hex8(0), // gid
      hex8(mode & S_IFDIR ? 2 : 1), // nlink
      hex8(0), // mtime: fixed for reproducible images
      hex8(data.length),
      hex8(0), // devmajor
      hex8(0), // devminor
      hex8(rdev.major),
      hex8(rdev.minor),
      hex8(nameBuf.length),
      hex8(0), // check
    ].join(''),
  );
  return [header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length)];
}

/** The archive of `entries` in the order given (parents before children), with the trailer. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (e.kind === 'dir') parts.push(...record(ino++, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0)));
    else if (e.kind === 'file') parts.push(...record(ino++, name, S_IFREG | (e.mode ?? 0o644), e.data));
    else if (e.kind === 'symlink') parts.push(...record(ino++, name, S_IFLNK | 0o777, Buffer.from(e.target)));
    else parts.push(...record(ino++, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), e));
  }
  parts.push(...record(0, 'TRAILER!!!', 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
