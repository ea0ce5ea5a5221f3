/**
 * Assembles the raw disk from a finished root directory, without loop devices or mounts:
 * sfdisk writes the GPT, `mkfs.ext4 -E offset=… -d ROOT` builds the root filesystem in place,
 * `mkfs.vfat --offset` + mtools fill the ESP, and GRUB goes in the way grub-bios-setup puts it
 * (boot.img in the MBR pointing at core.img in the BIOS boot partition).
 *
 * Why not `losetup -P` + mount: a build host's kernel need not scan partition tables or mount
 * FAT (this project's CI kernels do neither: no CONFIG_EFI_PARTITION, no CONFIG_VFAT_FS), and
 * writing filesystems at offsets needs neither — nor anything to detach when a build dies.
 */
import { execFile as execFileCb } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../../core/errors.ts';

const execFile = promisify(execFileCb);
const MiB = 2 ** 20;
const SECTOR = 512;

export const GPT_TYPE = {
  biosBoot: '21686148-6449-6E6F-744E-656564454649',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  /** Linux root (x86-64), per the Discoverable Partitions Specification. */
  rootX64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
} as const;

export interface Partition {
  index: number;
  /** Byte offset and size. */
  start: number;
  size: number;
  partUuid: string;
}

export interface DiskLayout {
  sizeBytes: number;
  diskGuid: string;
  bios: Partition;
  esp: Partition;
  root: Partition;
}

async function sh(cmd: string, args: readonly string[], env?: Record<string, string>): Promise<string> {
  try {
    const r = await execFile(cmd, args as string[], {
      maxBuffer: 64 * MiB,
      env: env ? { ...process.env, ...env } : process.env,
    });
    return r.stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    const why = err.code === 'ENOENT' ? `${cmd} is not installed` : err.stderr?.trim() || err.message;
    throw new IngotError(ErrorCode.Config, `${cmd} ${args.join(' ')} failed: ${why}`);
  }
}

/** A UUID derived from `seed` (stable across builds of the same recipe). */
export function uuidFrom(seed: string, hash: (s: string) => string): string {
  const h = hash(seed);
  const v = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((Number.parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return v;
}

/** Writes an empty sparse disk with its GPT; returns where each partition is. */
export async function partition(
  file: string,
  o: { sizeBytes: number; biosMiB: number; espMiB: number; ids: (what: string) => string },
): Promise<DiskLayout> {
  await sh('truncate', ['-s', String(o.sizeBytes), file]);
  const diskGuid = o.ids('disk');
  const p = (i: number) => o.ids(`part${i}`);
  const script = [
    'label: gpt',
    `label-id: ${diskGuid}`,
    'unit: sectors',
    `start=2048, size=${(o.biosMiB * MiB) / SECTOR}, type=${GPT_TYPE.biosBoot}, uuid=${p(1)}, name="bios"`,
    `size=${(o.espMiB * MiB) / SECTOR}, type=${GPT_TYPE.esp}, uuid=${p(2)}, name="esp"`,
    `type=${GPT_TYPE.rootX64}, uuid=${p(3)}, name="root"`,
    '',
  ].join('\n');
  await execFileWithInput('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', file], script);
  const dump = JSON.parse(await sh('sfdisk', ['--json', file])) as {
    partitiontable: { partitions: { start: number; size: number; uuid: string }[] };
  };
  const parts = dump.partitiontable.partitions.map((x, i) => ({
    index: i + 1,
    start: x.start * SECTOR,
    size: x.size * SECTOR,
    partUuid: x.uuid.toLowerCase(),
  }));
  return { sizeBytes: o.sizeBytes, diskGuid, bios: parts[0], esp: parts[1], root: parts[2] };
}

function execFileWithInput(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFileCb(cmd, args, (err, _out, stderr) => {
      if (err)
        reject(
          new IngotError(
            ErrorCode.Config,
            `${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`,
          ),
        );
      else resolve();
    });
    child.stdin?.end(input);
  });
}

/** The root filesystem, built from `rootDir` straight into the partition. */
export async function makeRootFs(
  file: string,
  part: Partition,
  o: { rootDir: string; label: string; uuid: string; epoch: number },
): Promise<void> {
  await sh(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-L',
      o.label,
      '-U',
      o.uuid,
      '-E',
      `offset=${part.start},hash_seed=${o.uuid},root_owner=0:0`,
      '-d',
      o.rootDir,
      file,
      `${part.size / 1024}k`,
    ],
    // Filesystem timestamps from the archive date, not the clock (reproducibility).
    { E2FSPROGS_FAKE_TIME: String(o.epoch) },
  );
}

/** The ESP: FAT at the partition's offset, then `files` (path on the ESP → local file) copied in. */
export async function makeEsp(
  file: string,
  part: Partition,
  o: { label: string; volumeId: string; files: Record<string, string> },
): Promise<void> {
  // FAT32 (what UEFI specifies for fixed disks) with 512-byte clusters: enough clusters for a 63 MiB ESP.
  await sh('mkfs.vfat', [
    '--invariant',
    '-F',
    '32',
    '-s',
    '1',
    '-n',
    o.label,
    '-i',
    o.volumeId,
    '--offset',
    String(part.start / SECTOR),
    file,
    String(part.size / 1024),
  ]);
  const img = `${file}@@${part.start}`;
  const dirs = new Set<string>();
  for (const dest of Object.keys(o.files)) {
    const segs = dest.split('/').filter(Boolean);
    for (let i = 1; i < segs.length; i++) dirs.add(segs.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) await sh('mmd', ['-i', img, `::/${d}`]);
  for (const [dest, src] of Object.entries(o.files)) await sh('mcopy', ['-i', img, '-m', src, `::/${dest}`]);
}

/** ESP volume id `XXXX-XXXX` as fstab's UUID= wants it, from mkfs.vfat's 8 hex digits. */
export const fatUuid = (volumeId: string): string =>
  `${volumeId.slice(0, 4)}-${volumeId.slice(4, 8)}`.toUpperCase();

/**
 * GRUB for BIOS, as grub-bios-setup does it for a GPT disk with a BIOS boot partition:
 * core.img goes into the partition, its first sector's blocklist points at the rest, and
 * boot.img goes into the MBR's code area (keeping the protective MBR's partition table)
 * with the LBA of core.img patched in. No Reed-Solomon redundancy (the field stays 0).
 */
export function installBiosGrub(file: string, part: Partition, bootImg: Buffer, coreImg: Buffer): void {
  const coreSectors = Math.ceil(coreImg.length / SECTOR);
  if (coreSectors * SECTOR > part.size)
    throw new IngotError(
      ErrorCode.Internal,
      `core.img (${coreImg.length} bytes) does not fit the BIOS boot partition`,
    );
  if (bootImg.length !== SECTOR) throw new IngotError(ErrorCode.Internal, 'boot.img is not 512 bytes');
  const firstSector = part.start / SECTOR;
  const core = Buffer.alloc(coreSectors * SECTOR);
  coreImg.copy(core);
  // diskboot.img's blocklist: the last 12 bytes of core.img's first sector.
  const bl = SECTOR - 12;
  const len = core.readUInt16LE(bl + 8);
  const seg = core.readUInt16LE(bl + 10);
  if (len !== coreSectors - 1 || seg !== 0x820)
    throw new IngotError(
      ErrorCode.Internal,
      `core.img blocklist is not what grub-mkimage writes (len ${len}, segment ${seg.toString(16)})`,
    );
  core.writeBigUInt64LE(BigInt(firstSector + 1), bl);

  const fd = openSync(file, 'r+');
  try {
    const mbr = Buffer.alloc(SECTOR);
    readSync(fd, mbr, 0, SECTOR, 0);
    const boot = Buffer.from(bootImg);
    mbr.copy(boot, 0x03, 0x03, 0x5a); // BPB area: keep what the disk has
    mbr.copy(boot, 0x1b8, 0x1b8, 0x1fe); // disk signature + (protective) partition table
    boot.writeBigUInt64LE(BigInt(firstSector), 0x5c); // GRUB_BOOT_MACHINE_KERNEL_SECTOR
    boot[0x66] = 0x90; // GRUB_BOOT_MACHINE_DRIVE_CHECK: a hard disk, skip the floppy probe
    boot[0x67] = 0x90;
    writeSync(fd, core, 0, core.length, part.start);
    writeSync(fd, boot, 0, SECTOR, 0);
  } finally {
    closeSync(fd);
  }
}
