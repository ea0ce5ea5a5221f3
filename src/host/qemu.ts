/**
 * What every QEMU VM of ours starts with, whoever runs it: lab machines (src/lab), image boot
 * checks (src/images/boot-check.ts) and the agent's direct boots (src/agent/image/direct-vm.ts).
 */

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export type Firmware = 'bios' | 'uefi';
export type Accel = 'tcg' | 'kvm';

/**
 * The CPU TCG guests get: QEMU's default `qemu64` without SVM (the guest's udev loaded kvm +
 * kvm_amd at every boot for nothing). Deliberately no SIMD or AES flags, though `qemu64` lacks
 * SSSE3, SSE4, AES-NI and PCLMULQDQ: QEMU 7.2's TCG runs each such instruction as a helper call,
 * and OpenSSL's generic code is the faster one here — SHA-256 and ChaCha20-Poly1305 ran 2-2.5×
 * slower with `+ssse3,+sse4.1,+sse4.2,+aes,+pclmulqdq`, ~8× slower with AVX2, and AES-GCM with
 * AES-NI stayed below generic ChaCha20 (docs/lab.md, "Deploy speed under TCG"). Never BMI2
 * (nor `max`, which has it): zstd's BMI2 decoder fails under this TCG ("Data corruption detected").
 */
export const TCG_CPU = 'qemu64,-svm';

/**
 * `cpus` CPUs (one by default), `memoryMiB`, no display (-nographic also tells SeaBIOS to use
 * the serial port), and a guest that reboots or powers off simply exits. Under TCG the CPU is
 * TCG_CPU; under KVM QEMU's default. No floppy drive: the pc machine's default one made
 * cloud-init's and blkid's probes of a deployed OS fail a second each, a dozen times in its
 * first boot under TCG (`I/O error, dev fd0`); q35 has no floppy controller and ignores the
 * setting. QEMU's other default devices stay: `-nodefaults` (no VGA either) was tried and taken
 * back — without a VGA card OVMF gives GRUB no video mode (`error: no suitable video mode
 * found`, test/images-os.test.ts); a UEFI VM would need its own display device first
 * (docs/lab.md).
 */
export function vmBaseArgs(accel: Accel, memoryMiB: number, cpus = 1): string[] {
  return [
    '-accel',
    accel,
    ...(accel === 'tcg' ? ['-cpu', TCG_CPU] : []),
    '-m',
    String(memoryMiB),
    '-smp',
    String(cpus),
    '-nographic',
    '-no-reboot',
    '-global',
    'isa-fdc.fdtypeA=none',
  ];
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
