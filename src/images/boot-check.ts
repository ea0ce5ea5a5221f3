/**
 * Boots a disk image in QEMU (TCG) with a NoCloud seed volume and waits for a line on the
 * serial console: the check that a built or imported image really boots, under BIOS
 * (SeaBIOS) or UEFI (OVMF, q35). The image itself is never written: the VM runs on a qcow2
 * overlay (which may be larger than the image, so first-boot growpart has room to grow).
 * User-mode networking (slirp): the guest reaches the host's loopback services at 10.0.2.2,
 * and `sshPort` forwards 127.0.0.1:sshPort to the guest's port 22. Holds a lab VM slot
 * (src/host/vm-slots.ts) while running, so at most two VMs run on the host.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ErrorCode, IngotError } from '../core/errors.ts';
import type { ImageFormat } from '../core/image.ts';
import { type Firmware, OVMF_VARS, uefiArgs, vmBaseArgs } from '../host/qemu.ts';
import { acquireVmSlot } from '../host/vm-slots.ts';

const execFile = promisify(execFileCb);

export interface BootCheckOptions {
  image: string;
  format: ImageFormat;
  firmware: Firmware;
  /** A NoCloud seed volume (writeSeedImage) attached as a second virtio disk. */
  seed?: string;
  /** What to wait for on the serial console. */
  marker: string | RegExp;
  /** The serial console log (kept for the caller to read). */
  consoleLog: string;
  /** Virtual disk size for the overlay (≥ the image's). */
  diskBytes?: number;
  memoryMiB?: number;
  /** Forward 127.0.0.1:sshPort → guest:22. */
  sshPort?: number;
  /**
   * The NICs' MAC addresses, one user-mode (slirp) NIC each, all on 10.0.2.0/24 with the host
   * at 10.0.2.2 (bond members, say); the SSH forward is on the first. @default one NIC, QEMU's MAC
   */
  nics?: readonly string[];
  /** @default 600 s */
  timeoutMs?: number;
  /**
   * Called once the marker appeared, with the VM still running (log in over SSH, look around);
   * the VM is stopped after it returns.
   */
  whileRunning?: () => Promise<void>;
  log?: (m: string) => void;
}

export interface BootCheckResult {
  /** Seconds from QEMU start to the marker. */
  seconds: number;
  console: string;
}

export async function bootCheck(o: BootCheckOptions): Promise<BootCheckResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-bootcheck-'));
  const release = await acquireVmSlot(`image-boot-check-${o.firmware}`);
  let pid: number | undefined;
  try {
    const overlay = join(dir, 'disk.qcow2');
    await execFile('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      o.image,
      '-F',
      o.format,
      overlay,
      ...(o.diskBytes ? [String(o.diskBytes)] : []),
    ]);
    writeFileSync(o.consoleLog, '');
    const net = `user,id=n0${o.sshPort ? `,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22` : ''}`;
    const args = [
      ...vmBaseArgs('tcg', o.memoryMiB ?? 1024),
      '-monitor',
      'none',
      '-serial',
      `file:${o.consoleLog}`,
      '-drive',
      `file=${overlay},if=none,id=d0,format=qcow2`,
      '-device',
      'virtio-blk-pci,drive=d0,bootindex=0',
    ];
    (o.nics ?? [null]).forEach((mac, i) => {
      args.push(
        '-netdev',
        i === 0 ? net : `user,id=n${i}`,
        '-device',
        `virtio-net-pci,netdev=n${i},romfile=${mac ? `,mac=${mac}` : ''}`,
      );
    });
    if (o.seed) args.push('-drive', `file=${o.seed},if=virtio,format=raw,readonly=on`);
    if (o.firmware === 'uefi') {
      const vars = join(dir, 'vars.fd');
      writeFileSync(vars, readFileSync(OVMF_VARS));
      args.push(...uefiArgs(vars));
    }
    const t0 = Date.now();
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    pid = child.pid;
    let stderr = '';
    let exited: number | null | undefined;
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('exit', (code) => {
      exited = code;
    });
    child.on('error', () => {
      exited = -1;
    });
    o.log?.(`qemu ${o.firmware} pid ${pid}: console ${o.consoleLog}`);
    const end = t0 + (o.timeoutMs ?? 600_000);
    const found = (text: string) =>
      typeof o.marker === 'string' ? text.includes(o.marker) : o.marker.test(text);
    for (;;) {
      const text = existsSync(o.consoleLog) ? readFileSync(o.consoleLog, 'utf8') : '';
      if (found(text)) {
        const seconds = (Date.now() - t0) / 1000;
        if (o.whileRunning) await o.whileRunning();
        return { seconds, console: text };
      }
      if (exited !== undefined)
        throw new IngotError(
          ErrorCode.StepFailed,
          `the VM stopped (exit ${exited}) before printing the marker; ${stderr.trim()} console tail:\n${text.slice(-3000)}`,
        );
      if (Date.now() > end)
        throw new IngotError(
          ErrorCode.Timeout,
          `no marker on the console after ${(o.timeoutMs ?? 600_000) / 1000} s; console tail:\n${text.slice(-3000)}`,
        );
      await sleep(500);
    }
  } finally {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      for (let i = 0; i < 40; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(50);
      }
    }
    release();
    rmSync(dir, { recursive: true, force: true });
  }
}
