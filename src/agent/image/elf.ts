/**
 * Just enough ELF to copy a dynamically linked program into an initramfs: its interpreter
 * (PT_INTERP) and the shared libraries it needs (DT_NEEDED), read from the file itself so no
 * host tool (ldd, readelf) decides what goes into the image. ELF64 little-endian only (amd64).
 */

export interface ElfDeps {
  interp: string | null;
  needed: string[];
  /** DT_RUNPATH / DT_RPATH, when set. */
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/** Whether `buf` starts like an ELF file. */
export function isElf(buf: Buffer): boolean {
  return buf.length > 64 && buf.readUInt32BE(0) === 0x7f454c46;
}

/** Interpreter and needed libraries of an ELF64 LE file; null for a non-ELF or static file without PT_DYNAMIC. */
export function elfDeps(buf: Buffer): ElfDeps | null {
  if (!isElf(buf) || buf[4] !== 2 || buf[5] !== 1) return null;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dyn: { offset: number; size: number } | null = null;
  let interp: string | null = null;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const type = buf.readUInt32LE(o);
    const offset = Number(buf.readBigUInt64LE(o + 8));
    const vaddr = Number(buf.readBigUInt64LE(o + 16));
    const filesz = Number(buf.readBigUInt64LE(o + 32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
    else if (type === PT_INTERP)
      interp = buf.toString('latin1', offset, offset + filesz).replace(/\0.*$/s, '');
  }
  if (!dyn) return { interp, needed: [], runpath: [] };
  const toOffset = (vaddr: number): number => {
    const l = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!l) throw new Error(`ELF: address 0x${vaddr.toString(16)} is in no PT_LOAD segment`);
    return vaddr - l.vaddr + l.offset;
  };
  const entries: { tag: number; val: number }[] = [];
  for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.size; o += 16) {
    const tag = Number(buf.readBigInt64LE(o));
    if (tag === 0) break;
    entries.push({ tag, val: Number(buf.readBigUInt64LE(o + 8)) });
  }
  const strtab = entries.find((e) => e.tag === DT_STRTAB);
  if (!strtab) return { interp, needed: [], runpath: [] };
  const base = toOffset(strtab.val);
  const str = (off: number): string => {
    const start = base + off;
    return buf.toString('latin1', start, buf.indexOf(0, start));
  };
  return {
    interp,
    needed: entries.filter((e) => e.tag === DT_NEEDED).map((e) => str(e.val)),
    runpath: entries
      .filter((e) => e.tag === DT_RUNPATH || e.tag === DT_RPATH)
      .flatMap((e) => str(e.val).split(':'))
      .filter(Boolean),
  };
}
