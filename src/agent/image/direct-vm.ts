/**
 * Boots the boot image straight from its kernel and initrd under QEMU (TCG, one CPU, like the
 * lab), with QEMU's user-mode network: the guest reaches this host's loopback as 10.0.2.2, so
 * a rack server on 127.0.0.1 answers its agent. No namespaces, no DHCP server, no iPXE: for the
 * agent's own tests and benchmarks. Holds a VM slot (src/host/vm-slots.ts) while it runs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { vmBaseArgs } from '../../host/qemu.ts';
import { acquireVmSlot } from '../../host/vm-slots.ts';

export interface DirectVmOptions {
  readonly kernel: string;
  readonly initrd: string;
  /** Kernel command line after `console=ttyS0 panic=-1`. */
  readonly append: string;
  /** A qcow2 disk, created with `diskGiB` if missing. */
  readonly disk: string;
  readonly diskGiB?: number;
  readonly memoryMiB?: number;
  /** More QEMU arguments (another disk, an NVMe controller…). */
  readonly extraArgs?: readonly string[];
  /** Each line the guest prints on its serial console. */
  readonly onLine?: (line: string) => void;
}

export interface DirectVm {
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** The guest's address for this host's loopback under QEMU user-mode networking. */
export const HOST_FROM_GUEST = '10.0.2.2';

export async function startDirectVm(o: DirectVmOptions): Promise<DirectVm> {
  execFileSync('sh', [
    '-c',
    `[ -e "$1" ] || qemu-img create -q -f qcow2 "$1" "$2G"`,
    'sh',
    o.disk,
    String(o.diskGiB ?? 4),
  ]);
  const release = await acquireVmSlot(`direct-vm-${process.pid}`);
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      ...vmBaseArgs('tcg', o.memoryMiB ?? 1024),
      '-kernel',
      o.kernel,
      '-initrd',
      o.initrd,
      '-append',
      `console=ttyS0 panic=-1 ${o.append}`,
      '-netdev',
      'user,id=n0',
      '-device',
      'virtio-net-pci,netdev=n0',
      '-drive',
      `file=${o.disk},if=none,id=d0,format=qcow2,discard=unmap`,
      '-device',
      'virtio-blk-pci,drive=d0',
      ...(o.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let partial = '';
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) o.onLine?.(l.replace(/\r$/, ''));
  };
  qemu.stdout.on('data', onData);
  qemu.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    qemu.once('exit', (code) => {
      release();
      resolve(code);
    });
    qemu.once('error', () => {
      release();
      resolve(null);
    });
  });
  return {
    exited,
    async stop() {
      if (qemu.exitCode === null && qemu.pid) qemu.kill('SIGKILL');
      await exited;
    },
  };
}
