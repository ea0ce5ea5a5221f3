/**
 * Image-write throughput of the agent against a plain pipeline in the same VM.
 *
 *   node bench/agent-write.ts IMAGE.raw[.zst|.gz|.xz] [--memory 1024] [--disk 4] [--cpu MODEL]
 *
 * Boots the boot image directly under QEMU (TCG, like the lab: -m, -smp 1, virtio-net + a qcow2
 * virtio-blk disk), with a small overlay initramfs whose /bench-init brings the network up as /init
 * does, then times the plain `curl | decompress | dd bs=4M conv=fsync` of the image to /dev/vda,
 * then starts the real agent, which gets one write-image task of the same image from this
 * script (the agent protocol, served here) and reports its own timing. Same VM, same disk, same
 * bytes. `--cpu` replaces the CPU model TCG guests get (src/host/qemu.ts TCG_CPU), e.g. `qemu64`
 * for QEMU's default. Prints a Markdown table (docs/agent.md, "Numbers").
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBootImage } from '../src/agent/image/build.ts';
import { cpioNewc } from '../src/agent/image/cpio.ts';
import { HOST_FROM_GUEST, startDirectVm } from '../src/agent/image/direct-vm.ts';

const args = process.argv.slice(2);
const image = args.find((a) => !a.startsWith('--'));
if (!image) {
  process.stderr.write(
    'usage: node bench/agent-write.ts IMAGE.raw[.zst|.gz|.xz] [--memory MiB] [--disk GiB] [--cpu MODEL]\n',
  );
  process.exit(2);
}
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const memory = opt('--memory', 1024);
const diskGiB = opt('--disk', 4);
const cpu = args.includes('--cpu') ? args[args.indexOf('--cpu') + 1] : null;
const compression = image.endsWith('.zst')
  ? 'zst'
  : image.endsWith('.gz')
    ? 'gz'
    : image.endsWith('.xz')
      ? 'xz'
      : 'none';
const dec = { zst: 'zstd -dc', gz: 'gzip -dc', xz: 'xz -dc', none: 'cat' }[compression];
const sha256 = createHash('sha256').update(readFileSync(image)).digest('hex');
const size = statSync(image).size;

const boot = await buildBootImage({ log: (m) => process.stderr.write(`${m}\n`) });
const work = mkdtempSync(join(tmpdir(), 'ingot-bench-write-'));
let baseline: { seconds: number; bytes: number } | null = null;
let agent: { seconds: number; bytes: number; mibps: number } | null = null;
let taskGiven = false;
let finished: () => void;
const done = new Promise<void>((r) => {
  finished = r;
});

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const url = req.url ?? '';
    if (url.startsWith('/image')) {
      res.writeHead(200, { 'content-length': String(size) });
      createReadStream(image).pipe(res);
      return;
    }
    if (url === '/bench/baseline') {
      try {
        baseline = JSON.parse(body) as { seconds: number; bytes: number };
      } catch {
        process.stderr.write(`bad baseline report: ${body}\n`);
      }
      return res.end('ok');
    }
    if (url === '/agent/v1/hello') return res.end('{}');
    if (url.startsWith('/agent/v1/task?')) {
      if (taskGiven) return setTimeout(() => res.writeHead(204).end(), 2000);
      taskGiven = true;
      const port = (server.address() as AddressInfo).port;
      return res.end(
        [
          "T_ID='bench'",
          "T_NAME='write-image'",
          `T_URL='http://${HOST_FROM_GUEST}:${port}/image'`,
          `T_SHA256='${sha256}'`,
          "T_FORMAT='raw'",
          `T_COMPRESSION='${compression}'`,
          `T_METADATA_URL='http://${HOST_FROM_GUEST}:${port}/metadata/'`,
          `T_OS_BOOTED_URL='http://${HOST_FROM_GUEST}:${port}/os-booted/'`,
          '',
        ].join('\n'),
      );
    }
    if (url.startsWith('/agent/v1/tasks/')) {
      const r = body
        ? (JSON.parse(body) as {
            event?: string;
            status?: string;
            data?: Record<string, number>;
            reason?: string;
          })
        : {};
      if (r.event === 'write-image.written' && r.data)
        agent = { seconds: r.data.seconds, bytes: r.data.bytes, mibps: r.data.mibps };
      if (r.status === 'done' || r.status === 'failed') {
        if (r.status === 'failed') process.stderr.write(`agent: write-image failed: ${r.reason}\n`);
        finished();
      }
      return res.end('{}');
    }
    res.writeHead(404).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as AddressInfo).port;

// The overlay: /bench-init = /init without its last line (exec the agent), the baseline, then the agent.
const benchInit = `#!/bin/sh
sed '$d' /init >/tmp/init-net
. /tmp/init-net
url=http://${HOST_FROM_GUEST}:${port}
s0=$(awk '{ print $7 }' /sys/block/vda/stat)
t0=$(cut -d' ' -f1 /proc/uptime)
curl -fsS $url/image | ${dec} | dd of=/dev/vda bs=4M conv=fsync 2>/tmp/dd.err
t1=$(cut -d' ' -f1 /proc/uptime)
bytes=$((($(awk '{ print $7 }' /sys/block/vda/stat) - s0) * 512))
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
curl -fsS -d "{\\"seconds\\":$secs,\\"bytes\\":$bytes}" $url/bench/baseline >/dev/null
echo "BENCH baseline $bytes bytes in $secs s"
exec /usr/bin/ingot-agent
`;
const overlay = join(work, 'overlay.img');
const { writeFileSync } = await import('node:fs');
writeFileSync(
  overlay,
  cpioNewc([{ kind: 'file', path: 'bench-init', data: Buffer.from(benchInit), mode: 0o755 }]),
);
const initrd = join(work, 'initrd.img');
writeFileSync(initrd, Buffer.concat([readFileSync(boot.initrd), readFileSync(overlay)]));
const vm = await startDirectVm({
  kernel: boot.kernel,
  initrd,
  append: `quiet rdinit=/bench-init ingot.url=http://${HOST_FROM_GUEST}:${port} ingot.token=benchbenchbenchbenchbench`,
  disk: join(work, 'disk.qcow2'),
  diskGiB,
  memoryMiB: memory,
  extraArgs: cpu ? ['-cpu', cpu] : [],
  onLine: (l) => {
    if (/BENCH|INGOT-|ingot-agent/.test(l)) process.stderr.write(`vm: ${l.trim()}\n`);
  },
});
const timeout = setTimeout(() => finished(), 900_000);
try {
  await done;
} finally {
  clearTimeout(timeout);
  await vm.stop();
  server.close();
  rmSync(work, { recursive: true, force: true });
}
const b = baseline as { seconds: number; bytes: number } | null;
const a = agent as { seconds: number; bytes: number; mibps: number } | null;
const mib = (x: number) => (x / 2 ** 20).toFixed(0);
console.log(`| image | ${image.split('/').at(-1)} (${mib(size)} MiB served, ${compression}) |`);
console.log('|---|---|');
if (b)
  console.log(
    `| plain curl \\| ${dec} \\| dd bs=4M conv=fsync | ${mib(b.bytes)} MiB in ${b.seconds} s = ${(b.bytes / 2 ** 20 / b.seconds).toFixed(1)} MiB/s |`,
  );
if (a)
  console.log(
    `| agent write-image (with sha256 through a fifo, progress) | ${mib(a.bytes)} MiB in ${a.seconds} s = ${a.mibps} MiB/s |`,
  );
if (a && b) console.log(`| agent / plain | ${(b.seconds / a.seconds).toFixed(2)}× |`);
process.exit(a && b ? 0 : 1);
