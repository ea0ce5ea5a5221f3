/**
 * What the QEMU CPU model costs the image write's steps under TCG, one boot per model.
 *
 *   node bench/tcg-cpu.ts OS-IMAGE.raw [--models 'tcg;qemu64,+aes'] [--mib 64]
 *
 * Boots the boot image straight from kernel + initrd (src/agent/image/direct-vm.ts: TCG, one
 * vCPU, 1 GiB, a qcow2 virtio disk) once per CPU model, with an overlay initramfs that carries
 * MIB MiB of the OS image's root filesystem (from 256 MiB into OS-IMAGE: real files, not zeros),
 * zstd -3 compressed as the region's copy is. In the guest: OpenSSL's SHA-256 and the TLS suites
 * (`openssl speed -evp`, 16 KiB blocks), the TLS handshake's X25519 and ECDSA P-256, RSA-3072 signs (the
 * deployed OS's first boot makes an RSA-3072 SSH host key: modular exponentiation), then the
 * write's own steps on that sample: SHA-256 of the compressed bytes, zstd -dc, and the agent's
 * pipeline `tee fifo(sha256) | zstd -dc | dd bs=1M conv=sparse,fsync` to /dev/vda (buffered
 * and O_DIRECT). `tcg` is the model vmBaseArgs gives TCG guests (src/host/qemu.ts); not `max` or
 * BMI2 (zstd fails under QEMU 7.2's TCG with it). Not yet run (docs/lab.md). Holds the
 * QEMU-tests slot (one QEMU suite at a time). Prints a Markdown table (docs/agent.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBootImage } from '../src/agent/image/build.ts';
import { cpioNewc } from '../src/agent/image/cpio.ts';
import { startDirectVm } from '../src/agent/image/direct-vm.ts';
import { TCG_CPU } from '../src/host/qemu.ts';
import { acquireHostSlot } from '../src/host/vm-slots.ts';

const args = process.argv.slice(2);
const image = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!image) {
  process.stderr.write("usage: node bench/tcg-cpu.ts OS-IMAGE.raw [--models 'tcg;qemu64,+aes'] [--mib 64]\n");
  process.exit(2);
}
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
// Models are separated by ';' (a model's own flags use commas); `tcg` is TCG_CPU. The default
// compares it with the SIMD and AES flags QEMU's TCG emulates (docs/lab.md: slower in user mode).
const models = opt('--models', 'tcg;qemu64,-svm,+ssse3,+sse4.1,+sse4.2,+popcnt,+aes,+pclmulqdq')
  .split(';')
  .map((m) => (m === 'tcg' ? TCG_CPU : m));
const mib = Number(opt('--mib', '64'));

const work = mkdtempSync(join(tmpdir(), 'ingot-bench-cpu-'));
const sample = join(work, 'sample.raw');
execFileSync('dd', [`if=${image}`, `of=${sample}`, 'bs=1M', 'skip=256', `count=${mib}`, 'status=none']);
execFileSync('zstd', ['-q', '-f', '-3', sample, '-o', `${sample}.zst`]);
const zst = readFileSync(`${sample}.zst`);

// Times with /proc/uptime (busybox has no `time` with this output); `BENCH key value` lines.
const init = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /run; mount -t tmpfs tmpfs /tmp
for pass in 1 2 3; do modprobe -q -a -b $(cat /sys/bus/*/devices/*/modalias | sort -u) 2>/dev/null; done
n=0; while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
up() { cut -d' ' -f1 /proc/uptime; }
timed() { # KEY CMD...
  k=$1; shift; a=$(up); sh -c "$*" >/dev/null 2>&1; b=$(up)
  echo "BENCH $k $(awk -v a=$a -v b=$b 'BEGIN { printf "%.2f", b - a }')"
}
echo "BENCH flags $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\\n' | grep -x -E 'ssse3|sse4_1|sse4_2|aes|pclmulqdq|avx|avx2|bmi2|sha_ni' | tr '\\n' ' ')"
for c in sha256 chacha20-poly1305 aes-128-gcm aes-256-gcm; do
  echo "BENCH speed-$c $(openssl speed -seconds 2 -bytes 16384 -evp $c 2>/dev/null | tail -n 1 | awk '{ print $NF }')"
done
openssl speed -seconds 2 ecdhx25519 ecdsap256 rsa3072 2>/dev/null | awk '/ecdh \\(X25519\\)/ { print "BENCH x25519-ops " $NF } /ecdsa \\(nistp256\\)/ { print "BENCH ecdsa-verify-ops " $NF } /^rsa 3072 bits/ { print "BENCH rsa3072-sign-ops " $(NF - 1) }'
timed sha256 "openssl dgst -sha256 /sample.zst"
timed zstd "zstd -dc /sample.zst"
rm -f /tmp/f; mkfifo /tmp/f
timed pipeline "openssl dgst -sha256 -r </tmp/f >/tmp/sum & cat /sample.zst | tee /tmp/f | zstd -dc | dd of=/dev/vda bs=1M iflag=fullblock conv=sparse,fsync; wait"
timed pipeline-direct "openssl dgst -sha256 -r </tmp/f >/tmp/sum & cat /sample.zst | tee /tmp/f | zstd -dc | dd of=/dev/vda bs=1M iflag=fullblock oflag=direct conv=sparse,fsync; wait"
echo "BENCH done"
poweroff -f
`;
const overlay = cpioNewc([
  { kind: 'file', path: 'bench-cpu', data: Buffer.from(init), mode: 0o755 },
  { kind: 'file', path: 'sample.zst', data: zst, mode: 0o644 },
]);
const boot = await buildBootImage({ log: (m) => process.stderr.write(`${m}\n`) });
const initrd = join(work, 'initrd.img');
writeFileSync(initrd, Buffer.concat([readFileSync(boot.initrd), overlay]));

const release = await acquireHostSlot('qemu-tests', 1, 'bench/tcg-cpu', 45 * 60_000);
const rows: { model: string; load: string; r: Map<string, string> }[] = [];
try {
  for (const model of models) {
    const r = new Map<string, string>();
    const load = loadavg()[0].toFixed(1);
    const vm = await startDirectVm({
      kernel: boot.kernel,
      initrd,
      append: 'quiet rdinit=/bench-cpu',
      disk: join(work, `disk-${rows.length}.qcow2`),
      diskGiB: 1,
      extraArgs: ['-cpu', model],
      onLine: (l) => {
        const m = /^BENCH (\S+) ?(.*)$/.exec(l.trim());
        if (!m) return;
        r.set(m[1], m[2]);
        process.stderr.write(`${model}: ${m[1]} ${m[2]}\n`);
      },
    });
    const timer = setTimeout(() => void vm.stop(), 600_000);
    await vm.exited;
    clearTimeout(timer);
    rows.push({ model, load, r });
  }
} finally {
  release();
  rmSync(work, { recursive: true, force: true });
}

const zMiB = zst.length / 2 ** 20;
const rate = (r: Map<string, string>, k: string, m: number) =>
  r.has(k) ? `${(m / Number(r.get(k))).toFixed(1)}` : '-';
// openssl speed prints thousands of bytes per second ("45000.00k"): MB/s.
const mb = (r: Map<string, string>, k: string) =>
  r.has(k) ? (Number(r.get(k)?.replace(/k$/, '')) / 1000).toFixed(1) : '-';
console.log(
  `${mib} MiB of the OS image's root (${zMiB.toFixed(1)} MiB as zstd -3); openssl speed in MB/s, the write's steps in MiB/s, in the guest (one TCG vCPU), ${new Date().toISOString()}`,
);
console.log('');
console.log(
  '| -cpu | load | SHA-256 (speed) | ChaCha20-Poly1305 | AES-128-GCM | AES-256-GCM | X25519 /s | ECDSA P-256 verify /s | RSA-3072 sign /s | sha256 of .zst | zstd -dc (out) | write pipeline (out) | same, O_DIRECT |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { model, load, r } of rows)
  console.log(
    `| \`${model}\` | ${load} | ${mb(r, 'speed-sha256')} | ${mb(r, 'speed-chacha20-poly1305')} | ${mb(r, 'speed-aes-128-gcm')} | ${mb(r, 'speed-aes-256-gcm')} | ${r.get('x25519-ops') ?? '-'} | ${r.get('ecdsa-verify-ops') ?? '-'} | ${r.get('rsa3072-sign-ops') ?? '-'} | ${rate(r, 'sha256', zMiB)} | ${rate(r, 'zstd', mib)} | ${rate(r, 'pipeline', mib)} | ${rate(r, 'pipeline-direct', mib)} |`,
  );
console.log('');
console.log(`flags seen: ${rows.map(({ model, r }) => `${model}: ${r.get('flags') ?? '?'}`).join('; ')}`);
