/**
 * QEMU command lines for lab machines (on the base arguments every VM of ours has,
 * src/host/qemu.ts), and the KVM probe. The machines here have a KVM device
 * that does not work (guests triple-fault early), so KVM is used only when a probe boots the
 * guest kernel far enough to print its banner; otherwise TCG.
 */
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { EmulatedBoot } from '../bmc/emulator/power-target.ts';
import { type Accel, type Firmware, OVMF_VARS, uefiArgs, vmBaseArgs } from '../host/qemu.ts';

const execFile = promisify(execFileCb);

/** iPXE for QEMU's virtio-net (legacy PXE ROM + EFI driver in one image, Debian's ipxe-qemu). */
export const IPXE_ROM = '/usr/lib/ipxe/qemu/efi-virtio.rom';

export type { Accel, Firmware };

export interface QemuMachine {
  readonly name: string;
  readonly firmware: Firmware;
  readonly mac: string;
  readonly memoryMiB: number;
  /** vCPUs. @default 1 */
  readonly cpus?: number;
  readonly tap: string;
  readonly disk: string;
  /** UEFI variable store (a copy of OVMF_VARS per machine, kept across boots). */
  readonly vars: string;
  readonly consoleLog: string;
  readonly qmpSocket: string;
  readonly pidFile: string;
  readonly accel: Accel;
}

/** Network first for Pxe/UefiHttp overrides; otherwise the machine's own order: disk, then network. */
export function qemuArgs(m: QemuMachine, boot: EmulatedBoot): string[] {
  const netFirst = boot.target === 'Pxe' || boot.target === 'UefiHttp';
  const [nicIdx, diskIdx] = netFirst ? [0, 1] : [1, 0];
  const args = [
    '-name',
    m.name,
    ...vmBaseArgs(m.accel, m.memoryMiB, m.cpus ?? 1),
    '-monitor',
    'none',
    '-chardev',
    `file,id=con,path=${m.consoleLog},append=on`,
    '-serial',
    'chardev:con',
    '-qmp',
    `unix:${m.qmpSocket},server=on,wait=off`,
    '-pidfile',
    m.pidFile,
    '-netdev',
    `tap,id=n0,ifname=${m.tap},script=no,downscript=no`,
    '-device',
    // BIOS: QEMU's default ROM for virtio-net-pci (Debian's iPXE); UEFI: the iPXE EFI ROM named
    // explicitly — the same ROMs boot-floor uses, so the two chains compare like for like.
    `virtio-net-pci,netdev=n0,mac=${m.mac}${m.firmware === 'uefi' ? `,romfile=${IPXE_ROM}` : ''},bootindex=${nicIdx}`,
    '-drive',
    // discard: the disk takes TRIM and write-zeroes like an SSD (the agent's secure wipe uses them).
    // cache=unsafe: a guest's flush (etcd's fsyncs in kubeadm init, dpkg's) still writes QEMU's
    // cached qcow2 metadata to the file but skips the host fdatasync — a lab disk is throwaway,
    // and on a shared host those syncs queue behind every other writer. A BMC power-off is a
    // SIGTERM (QEMU closes the image cleanly) and data QEMU wrote sits in the host's page cache,
    // so only a host crash could lose it.
    `file=${m.disk},if=none,id=d0,format=qcow2,discard=unmap,cache=unsafe`,
    '-device',
    `virtio-blk-pci,drive=d0,bootindex=${diskIdx}`,
  ];
  if (m.firmware === 'uefi') args.push(...uefiArgs(m.vars));
  return args;
}

/** Creates the machine's disk, UEFI vars and console log directory if missing. */
export async function prepareMachineFiles(m: QemuMachine, diskGiB: number): Promise<void> {
  mkdirSync(dirname(m.consoleLog), { recursive: true });
  if (!existsSync(m.disk)) await execFile('qemu-img', ['create', '-q', '-f', 'qcow2', m.disk, `${diskGiB}G`]);
  if (m.firmware === 'uefi' && !existsSync(m.vars)) writeFileSync(m.vars, readFileSync(OVMF_VARS));
}

/**
 * Whether KVM really runs a guest here: boots `kernel` without an initrd and waits for the
 * banner. Cached per host boot in `cacheDir` (the answer changes only with the host).
 */
export async function probeAccel(kernel: string, cacheDir: string): Promise<Accel> {
  if (!existsSync('/dev/kvm')) return 'tcg';
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const cache = join(cacheDir, 'kvm-probe.json');
  try {
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { bootId: string; accel: Accel };
    if (c.bootId === bootId) return c.accel;
  } catch {
    // no cached answer
  }
  let accel: Accel = 'tcg';
  try {
    const { stdout } = await execFile(
      'timeout',
      [
        '8',
        'qemu-system-x86_64',
        '-accel',
        'kvm',
        '-m',
        '128',
        '-nodefaults',
        '-display',
        'none',
        '-no-reboot',
        '-kernel',
        kernel,
        '-append',
        'console=ttyS0 panic=-1 loglevel=7',
        '-serial',
        'stdio',
      ],
      { maxBuffer: 16 * 2 ** 20 },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    if (/Linux version/.test(stdout)) accel = 'kvm';
  } catch {
    accel = 'tcg';
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cache, `${JSON.stringify({ bootId, accel })}\n`);
  return accel;
}
