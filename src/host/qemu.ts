/**
 * What every QEMU VM of ours starts with, whoever runs it: lab machines (src/lab), image boot
 * checks (src/images/boot-check.ts) and the agent's direct boots (src/agent/image/direct-vm.ts).
 */

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export type Firmware = 'bios' | 'uefi';
export type Accel = 'tcg' | 'kvm';

/**
 * `cpus` CPUs (one by default), `memoryMiB`, no display (-nographic also tells SeaBIOS to use
 * the serial port), and a guest that reboots or powers off simply exits.
 */
export function vmBaseArgs(accel: Accel, memoryMiB: number, cpus = 1): string[] {
  return ['-accel', accel, '-m', String(memoryMiB), '-smp', String(cpus), '-nographic', '-no-reboot'];
}

/** UEFI: q35 with OVMF's code (read-only) and this VM's own copy of the variable store. */
export function uefiArgs(vars: string): string[] {
  return [
    '-machine',
    'q35',
    '-drive',
    `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
    '-drive',
    `if=pflash,format=raw,file=${vars}`,
  ];
}
