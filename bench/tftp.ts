/**
 * TFTP throughput and latency, Ingot against dnsmasq's TFTP, side by side in one run: inside a
 * network namespace this script creates (and deletes), Ingot serves on 127.0.0.1:69 (in its own
 * process, like dnsmasq) and dnsmasq on 127.0.0.2:69, the same files; atftp fetches them with
 * blksize 1468 and no windowsize (what PXE ROMs ask for), alternating the servers fetch by fetch
 * (the order flips every round) so a busy moment on a shared machine hits both. Per round: the
 * big file once from each, then a 1 MiB file and undionly.kpxe (the iPXE binary a BIOS ROM
 * fetches) four times each. Prints min / median / max of each server and of the per-round
 * ratio, the load average, and Ingot with windowsize 8 (dnsmasq has no windowsize).
 * Needs root, atftp and dnsmasq (skips with a message without them).
 *
 *   node bench/tftp.ts [--runs 5] [--mib 16]
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '16' },
    inner: { type: 'string' },
    serve: { type: 'string' },
  },
});
const runs = Number(values.runs);
const UNDI = '/usr/lib/ipxe/undionly.kpxe';

async function fetch(host: string, file: string, out: string, options: string[]): Promise<number> {
  const t0 = performance.now();
  const args = options.flatMap((o) => ['--option', o]);
  await run('atftp', [...args, '-g', '-r', file, '-l', out, host, '69'], { timeout: 120_000 });
  return (performance.now() - t0) / 1000;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], d: number) =>
  `${Math.min(...xs).toFixed(d)} / ${median(xs).toFixed(d)} / ${Math.max(...xs).toFixed(d)}`;

/** The Ingot server alone in this process (the bench's own work stays out of its event loop). */
async function serve(root: string): Promise<void> {
  const { startTftpServer } = await import('../src/netboot/tftp/index.ts');
  const { default: pino } = await import('pino');
  await startTftpServer({
    root,
    bind: { address: '127.0.0.1', port: 69 },
    allow: ['bench.bin', 'one.bin', 'undionly.kpxe'],
    logger: pino({ level: 'warn' }),
  });
  console.log('ready');
}

async function inner(root: string): Promise<void> {
  const ingot = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    ingot.stdout.once('data', () => ok());
    ingot.once('exit', (c) => fail(new Error(`Ingot's TFTP server exited (${c})`)));
  });
  const dnsmasq = spawn(
    'dnsmasq',
    [
      '-k',
      '-C',
      '/dev/null',
      '-p',
      '0',
      '-u',
      'root',
      '-g',
      'root',
      '--enable-tftp',
      `--tftp-root=${root}`,
      '--listen-address=127.0.0.2',
      '--bind-interfaces',
      '--log-facility=-',
      `--pid-file=${join(root, 'dnsmasq.pid')}`,
    ],
    { stdio: 'ignore' },
  );
  const hosts = { ingot: '127.0.0.1', dnsmasq: '127.0.0.2' } as const;
  const big = { ingot: [] as number[], dnsmasq: [] as number[] };
  const one = { ingot: [] as number[], dnsmasq: [] as number[] };
  const undi = { ingot: [] as number[], dnsmasq: [] as number[] };
  const ratio = { big: [] as number[], one: [] as number[], undi: [] as number[] };
  const windowed: number[] = [];
  const loads: number[] = [];
  const opts = ['blksize 1468'];
  const mib = Number(values.mib);
  try {
    await new Promise((r) => setTimeout(r, 500));
    // Warm-up: both read the files into the page cache (and Ingot into memory) once.
    for (const s of ['ingot', 'dnsmasq'] as const)
      await fetch(hosts[s], 'bench.bin', join(root, 'out'), opts);
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? (['ingot', 'dnsmasq'] as const) : (['dnsmasq', 'ingot'] as const);
      const round = {
        big: { ingot: 0, dnsmasq: 0 },
        one: { ingot: [] as number[], dnsmasq: [] as number[] },
      };
      const roundUndi = { ingot: [] as number[], dnsmasq: [] as number[] };
      for (const s of order) {
        const t = await fetch(hosts[s], 'bench.bin', join(root, 'out'), opts);
        big[s].push(mib / t);
        round.big[s] = mib / t;
      }
      for (let i = 0; i < 4; i++)
        for (const s of order) {
          round.one[s].push((await fetch(hosts[s], 'one.bin', join(root, 'out'), opts)) * 1000);
          roundUndi[s].push((await fetch(hosts[s], 'undionly.kpxe', join(root, 'out'), opts)) * 1000);
        }
      for (const s of order) {
        one[s].push(median(round.one[s]));
        undi[s].push(median(roundUndi[s]));
      }
      ratio.big.push(round.big.ingot / round.big.dnsmasq);
      ratio.one.push(median(round.one.ingot) / median(round.one.dnsmasq));
      ratio.undi.push(median(roundUndi.ingot) / median(roundUndi.dnsmasq));
      windowed.push(
        mib / (await fetch(hosts.ingot, 'bench.bin', join(root, 'out'), [...opts, 'windowsize 8'])),
      );
      loads.push(loadavg()[0]);
      console.error(
        `round ${r + 1}: ${mib} MiB ingot ${round.big.ingot.toFixed(1)} dnsmasq ${round.big.dnsmasq.toFixed(1)} MiB/s; load ${loadavg()[0].toFixed(2)}`,
      );
    }
  } finally {
    ingot.kill('SIGTERM');
    dnsmasq.kill('SIGTERM');
  }
  const atftp = spawnSync('atftp', ['-V']).stderr.toString().trim().split('\n')[0];
  console.log(
    `${new Date().toISOString().slice(0, 16)}Z; host: ${cpus().length} CPUs, 1-min load average ${spread(loads, 2)} (min/median/max over the rounds); ` +
      `${atftp}, blksize 1468, no windowsize; ${runs} rounds, servers alternating fetch by fetch; ` +
      `${mib} MiB once per round, 1 MiB and undionly.kpxe (${existsSync(UNDI) ? spawnSync('stat', ['-c', '%s', UNDI]).stdout.toString().trim() : '?'} bytes) four times per round (round median)`,
  );
  console.log(
    '| measure | dnsmasq (min / median / max) | Ingot (min / median / max) | Ingot / dnsmasq per round (min / median / max) |',
  );
  console.log('|---|---|---|---|');
  console.log(
    `| ${mib} MiB, MiB/s | ${spread(big.dnsmasq, 1)} | ${spread(big.ingot, 1)} | **${spread(ratio.big, 2)}×** |`,
  );
  console.log(
    `| 1 MiB fetch, ms | ${spread(one.dnsmasq, 1)} | ${spread(one.ingot, 1)} | ${spread(ratio.one, 2)}× (time: lower is better) |`,
  );
  console.log(
    `| undionly.kpxe fetch, ms | ${spread(undi.dnsmasq, 1)} | ${spread(undi.ingot, 1)} | ${spread(ratio.undi, 2)}× (time: lower is better) |`,
  );
  console.log(`| ${mib} MiB with windowsize 8, MiB/s | – | ${spread(windowed, 1)} | – |`);
}

if (values.serve) await serve(values.serve);
else if (values.inner) await inner(values.inner);
else {
  const missing = ['atftp', 'dnsmasq', 'ip'].filter(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0,
  );
  if (missing.length || process.getuid?.() !== 0 || !existsSync(UNDI)) {
    console.log(
      `bench/tftp.ts skipped: needs root${missing.length ? `, and ${missing.join(', ')} (Debian packages atftp, dnsmasq, iproute2)` : ''}${existsSync(UNDI) ? '' : `, and ${UNDI} (package ipxe)`}`,
    );
    process.exit(0);
  }
  const ns = `tftpb${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'ingot-tftp-bench-'));
  try {
    writeFileSync(join(root, 'bench.bin'), randomBytes(Number(values.mib) * 1048576));
    writeFileSync(join(root, 'one.bin'), randomBytes(1048576));
    copyFileSync(UNDI, join(root, 'undionly.kpxe'));
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        new URL(import.meta.url).pathname,
        '--inner',
        root,
        '--runs',
        String(runs),
        '--mib',
        String(values.mib),
      ],
      { stdio: 'inherit' },
    );
    process.exitCode = r.status ?? 1;
  } finally {
    for (const pid of execFileSync('ip', ['netns', 'pids', ns]).toString().split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(root, { recursive: true, force: true });
  }
}
