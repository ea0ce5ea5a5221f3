/**
 * The boot image's own boot, side by side with the floor of its kernel (root; ~20 s per pair).
 * Ingot: QEMU (TCG, `-m 1024 -smp 1`, SeaBIOS) started with the boot image's kernel and
 * initramfs and a user-mode network, timed from the QEMU start to the agent's first hello on a
 * loopback HTTP server standing in for the rack (hello → 200, task → 204). Floor:
 * boot-floor --direct (bench/boot-floor.ts: an optional peer, INGOT_BOOT_FLOOR; skipped when
 * missing), the same Debian kernel with a busybox initramfs that only
 * loads virtio-net, runs udhcpc and phones home, timed the same way. Runs alternate.
 *
 *   node bench/boot-image.ts [--runs 5]
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBootImage, defaultCacheDir } from '../src/agent/image/build.ts';
import { HOST_FROM_GUEST, startDirectVm } from '../src/agent/image/direct-vm.ts';
import { bootFloorTool, runBootFloor } from './boot-floor.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const FLOOR = bootFloorTool();
const image = await buildBootImage({ log: (m) => console.error(m) });

interface Run {
  /** QEMU start → hello request (s). */
  hello: number;
  /** Before the kernel's clock starts: firmware, loading, decompressing the kernel. */
  preKernel: number;
  /** Kernel start → /init. */
  kernel: number;
  /** /init → hello: NIC drivers, DHCP, the agent's start. */
  init: number;
}

async function ingotOnce(): Promise<Run> {
  let t0 = 0;
  let hello = 0;
  let done!: () => void;
  const got = new Promise<void>((r) => {
    done = r;
  });
  const srv = createServer((req, res) => {
    if (req.url?.startsWith('/agent/v1/hello')) {
      hello ||= performance.now() - t0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    setTimeout(() => res.writeHead(204).end(), 20_000).unref();
  }).listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as AddressInfo).port;
  let initAt = Number.NaN;
  let readyAt = Number.NaN;
  const disk = join(tmpdir(), `ingot-bench-boot-${process.pid}.qcow2`);
  t0 = performance.now();
  const vm = await startDirectVm({
    kernel: image.kernel,
    initrd: image.initrd,
    disk,
    append: `quiet ingot.url=http://${HOST_FROM_GUEST}:${port} ingot.token=bench`,
    onLine: (l) => {
      const i = /ingot-init: boot image .* \/init at ([\d.]+) s/.exec(l);
      if (i) initAt = Number(i[1]);
      const r = /INGOT-AGENT-READY uptime=([\d.]+)/.exec(l);
      if (r) {
        readyAt = Number(r[1]);
        done();
      }
    },
  });
  const timer = setTimeout(done, 60_000);
  await got;
  clearTimeout(timer);
  await vm.stop();
  srv.close();
  srv.closeAllConnections();
  rmSync(disk, { force: true });
  if (!hello || Number.isNaN(readyAt)) throw new Error('the agent did not say hello within 60 s');
  const s = hello / 1000;
  return { hello: s, preKernel: s - readyAt, kernel: initAt, init: readyAt - initAt };
}

async function floorOnce(tool: string): Promise<number> {
  return (await runBootFloor(tool, ['--direct', '--cache', `${defaultCacheDir()}/boot-floor`])).median;
}

const ours: Run[] = [];
const floor: number[] = [];
for (let n = 0; n < runs; n++) {
  if (FLOOR) floor.push(await floorOnce(FLOOR));
  ours.push(await ingotOnce());
  const o = ours.at(-1)!;
  console.error(
    `run ${n + 1}: ${FLOOR ? `floor ${floor.at(-1)!.toFixed(2)} s, ` : ''}ingot ${o.hello.toFixed(2)} s (before the kernel ${o.preKernel.toFixed(2)}, kernel → /init ${o.kernel.toFixed(2)}, /init → hello ${o.init.toFixed(2)})`,
  );
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0].toFixed(2)} / ${s[Math.floor((s.length - 1) / 2)].toFixed(2)} / ${s.at(-1)!.toFixed(2)} s`;
};
console.log(
  `host: ${cpus().length} CPUs, load average at end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; boot image ${image.key} (${(image.sizeBytes / 2 ** 20).toFixed(1)} MiB), ${runs} runs`,
);
console.log('| QEMU start → phone-home (min / median / max) | |');
console.log('|---|---|');
console.log(
  `| floor (boot-floor --direct) | ${floor.length ? stats(floor) : 'not measured (no INGOT_BOOT_FLOOR)'} |`,
);
console.log(`| Ingot boot image → agent hello | **${stats(ours.map((o) => o.hello))}** |`);
console.log(
  `| … before the kernel (SeaBIOS, fw_cfg, XZ decompression) | ${stats(ours.map((o) => o.preKernel))} |`,
);
console.log(`| … kernel → /init (incl. the initramfs unpack) | ${stats(ours.map((o) => o.kernel))} |`);
console.log(`| … /init → hello (NIC drivers, DHCP, agent start) | ${stats(ours.map((o) => o.init))} |`);
