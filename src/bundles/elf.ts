/**
 * The architecture of an ELF file from its header (the first 20 bytes): e_machine at offset
 * 18, in the byte order EI_DATA names. Nothing else of the file is read or run: a bundle's
 * binaries are never executed on the region.
 */
import type { Arch } from '../core/machine.ts';

/** e_machine values (System V gABI) of the architectures a bundle might carry. */
const MACHINES: Record<number, string> = {
  3: '386',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390x',
  40: 'arm',
  62: 'amd64',
  183: 'arm64',
  243: 'riscv64',
};

export interface ElfInfo {
  /** Go's name for the architecture (`amd64`, `arm64`, `ppc64le`…), or `e_machine N` when unknown. */
  readonly arch: Arch | string;
  readonly bits: 32 | 64;
}

/** The ELF header's architecture, or null when `head` is not the start of an ELF file. */
export function elfInfo(head: Buffer): ElfInfo | null {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return null;
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return null;
  const machine = data === 1 ? head.readUInt16LE(18) : head.readUInt16BE(18);
  let arch = MACHINES[machine] ?? `e_machine ${machine}`;
  if (arch === 'ppc64' && data === 1) arch = 'ppc64le';
  if (arch === 'arm' && cls === 2) arch = `e_machine ${machine}`;
  return { arch, bits: cls === 1 ? 32 : 64 };
}
