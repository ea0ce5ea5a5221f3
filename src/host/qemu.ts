/**
 * What every QEMU VM of ours starts with, whoever runs it: lab machines (src/lab), image boot
 * checks (src/images/boot-check.ts) and the agent's direct boots (src/agent/image/direct-vm.ts).
 */

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export type Firmware = 'bios' | 'uefi';
export type Accel = 'tcg' | 'kvm';

/**
 * The CPU TCG guests get: QEMU's default `qemu64` with SSSE3, SSE4.1/4.2, POPCNT, AES-NI and
 * PCLMULQDQ, without SVM. `qemu64` alone has none of them, so OpenSSL (TLS, SHA-256) and zstd in
 * the guest ran their generic code, emulated instruction by instruction, and the lab deploy's
 * image write was CPU-bound in the guest (docs/agent.md, "Image write"). QEMU 7.2's TCG emulates
 * all of them (`-cpu max` lists what it has). Not `max`, nor an Intel model: `max` turns on
 * 5-level paging and more whose emulation costs the guest's kernel, and an Intel vendor makes
 * Linux isolate page tables (Meltdown) — a TLB flush per system call under TCG. No SVM: the
 * guest's udev loaded kvm + kvm_amd at every boot for nothing. Measured by bench/tcg-cpu.ts.
 */
export const TCG_CPU = 'qemu64,-svm,+ssse3,+sse4.1,+sse4.2,+popcnt,+aes,+pclmulqdq';

/**
 * `cpus` CPUs (one by default), `memoryMiB`, no display (-nographic also tells SeaBIOS to use
 * the serial port), and a guest that reboots or powers off simply exits. Under TCG the CPU is
 * TCG_CPU; under KVM QEMU's default. `-nodefaults`: none of QEMU's default devices — a floppy
 * drive (Linux probes it at boot; cloud-init's NoCloud reads it five times looking for a seed,
 * each read failing after retries), an IDE CD-ROM, a parallel port, a VGA card (Linux then
 * draws every console line into a framebuffer, by the emulated CPU): seconds each of an
 * emulated OS's first boot (docs/lab.md). So the caller names its serial port and monitor.
 */
export function vmBaseArgs(accel: Accel, memoryMiB: number, cpus = 1): string[] {
  return [
    '-nodefaults',
    '-accel',
    accel,
    ...(accel === 'tcg' ? ['-cpu', TCG_CPU] : []),
    '-m',
    String(memoryMiB),
    '-smp',
    String(cpus),
    '-nographic',
    '-no-reboot',
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
