/**
 * TFTP throughput and latency, Ingot against dnsmasq's TFTP, side by side in one run: inside a
 * network namespace this script creates (and deletes), Ingot serves on 127.0.0.1:69 (in its own
 * process, like dnsmasq) and dnsmasq on 127.0.0.2:69, the same files; atftp fetches them with
 * blksize 1468 and no windowsize (what PXE ROMs ask for), alternating the servers fetch by fetch
 * (the order flips every round) so a busy moment on a shared machine hits both. Per round: the
 * big file once from each, then a 1 MiB file and undionly.kpxe (the iPXE binary a BIOS ROM
 * fetches) four times each. Prints min / median / max of each server and of the per-round
 * ratio, the load average, and Ingot with windowsize 8 (dnsmasq has no windowsize).
 * Beside throughput, each server's CPU time per block of the big file (all its threads, from
 * /proc/<pid>/task/<tid>/schedstat): a measure a busy shared machine blurs far less than MiB/s.
 * With --baseline, a second Ingot server from another checkout (e.g. main) runs on 127.0.0.3 in
 * the same rounds, so a change is measured against what it changes in one sitting.
 * Needs root, atftp and dnsmasq (skips with a message without them).
 *
 *   node bench/tftp.ts [--runs 5] [--mib 16] [--baseline /path/to/other/checkout]
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '16' },
    inner: { type: 'string' },
    serve: { type: 'string' },
    baseline: { type: 'string' },
    tree: { type: 'string' },
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

/** CPU time a process has run, all threads, in ns (the scheduler's own count, not ticks). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {} // a thread that ended between the listing and the read
  }
  return ns;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], d: number) =>
  `${Math.min(...xs).toFixed(d)} / ${median(xs).toFixed(d)} / ${Math.max(...xs).toFixed(d)}`;

/**
 * The Ingot server alone in this process (the bench's own work stays out of its event loop):
 * this checkout's on 127.0.0.1, or another checkout's (`tree`, --baseline) on 127.0.0.3.
 */
async function serve(root: string, tree?: string): Promise<void> {
  const index = tree ? join(tree, 'src/netboot/tftp/index.ts') : '../src/netboot/tftp/index.ts';
  const { startTftpServer } = await import(index);
  const { default: pino } = await import('pino');
  await startTftpServer({
    root,
    bind: { address: tree ? '127.0.0.3' : '127.0.0.1', port: 69 },
    allow: ['bench.bin', 'one.bin', 'undionly.kpxe'],
    logger: pino({ level: 'warn' }),
  });
  console.log('ready');
}

async function startIngot(root: string, tree?: string) {
  const args = [new URL(import.meta.url).pathname, '--serve', root, ...(tree ? ['--tree', tree] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ok, fail) => {
    child.stdout.once('data', () => ok());
    child.once('exit', (c) =>
      fail(new Error(`Ingot's TFTP server (${tree ?? 'this checkout'}) exited (${c})`)),
    );
  });
  return child;
}

async function inner(root: string): Promise<void> {
  const ingot = await startIngot(root);
  const base = values.baseline ? await startIngot(root, resolve(values.baseline)) : null;
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
  type Server = 'ingot' | 'dnsmasq' | 'baseline';
  const hosts: Record<Server, string> = { ingot: '127.0.0.1', dnsmasq: '127.0.0.2', baseline: '127.0.0.3' };
  const pids: Record<Server, number> = {
    ingot: ingot.pid ?? 0,
    dnsmasq: dnsmasq.pid ?? 0,
    baseline: base?.pid ?? 0,
  };
  const servers: Server[] = base ? ['ingot', 'dnsmasq', 'baseline'] : ['ingot', 'dnsmasq'];
  const big = { ingot: [] as number[], dnsmasq: [] as number[], baseline: [] as number[] };
  const cpu = { ingot: [] as number[], dnsmasq: [] as number[], baseline: [] as number[] };
  const baseRatio = { big: [] as number[], undi: [] as number[] };
  const baseUndi: number[] = [];
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
    for (const s of servers) await fetch(hosts[s], 'bench.bin', join(root, 'out'), opts);
    const blocks = Math.floor((mib * 1048576) / 1468) + 1;
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      const round = {
        big: { ingot: 0, dnsmasq: 0, baseline: 0 },
        one: { ingot: [] as number[], dnsmasq: [] as number[], baseline: [] as number[] },
      };
      const roundUndi = { ingot: [] as number[], dnsmasq: [] as number[], baseline: [] as number[] };
      for (const s of order) {
        const ns0 = cpuNs(pids[s]);
        const t = await fetch(hosts[s], 'bench.bin', join(root, 'out'), opts);
        cpu[s].push((cpuNs(pids[s]) - ns0) / blocks / 1000);
        big[s].push(mib / t);
        round.big[s] = mib / t;
      }
      for (let i = 0; i < 4; i++)
        for (const s of order) {
          round.one[s].push((await fetch(hosts[s], 'one.bin', join(root, 'out'), opts)) * 1000);
          roundUndi[s].push((await fetch(hosts[s], 'undionly.kpxe', join(root, 'out'), opts)) * 1000);
        }
      for (const s of ['ingot', 'dnsmasq'] as const) {
        one[s].push(median(round.one[s]));
        undi[s].push(median(roundUndi[s]));
      }
      if (base) {
        baseUndi.push(median(roundUndi.baseline));
        baseRatio.big.push(round.big.baseline / round.big.dnsmasq);
        baseRatio.undi.push(median(roundUndi.baseline) / median(roundUndi.dnsmasq));
      }
      ratio.big.push(round.big.ingot / round.big.dnsmasq);
      ratio.one.push(median(round.one.ingot) / median(round.one.dnsmasq));
      ratio.undi.push(median(roundUndi.ingot) / median(roundUndi.dnsmasq));
      windowed.push(
        mib / (await fetch(hosts.ingot, 'bench.bin', join(root, 'out'), [...opts, 'windowsize 8'])),
      );
      loads.push(loadavg()[0]);
      console.error(
        `round ${r + 1}: ${mib} MiB ingot ${round.big.ingot.toFixed(1)} dnsmasq ${round.big.dnsmasq.toFixed(1)}${base ? ` baseline ${round.big.baseline.toFixed(1)}` : ''} MiB/s; load ${loadavg()[0].toFixed(2)}`,
      );
    }
  } finally {
    ingot.kill('SIGTERM');
    base?.kill('SIGTERM');
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
  console.log(
    `| ${mib} MiB, server CPU µs per block (all threads) | ${spread(cpu.dnsmasq, 1)} | ${spread(cpu.ingot, 1)} | ${spread(
      cpu.ingot.map((c, i) => c / cpu.dnsmasq[i]),
      2,
    )}× |`,
  );
  console.log(`| ${mib} MiB with windowsize 8, MiB/s | – | ${spread(windowed, 1)} | – |`);
  if (base) {
    console.log(`\nBaseline: Ingot from ${resolve(values.baseline ?? '')} in the same rounds`);
    console.log(
      `| measure | baseline (min / median / max) | baseline / dnsmasq per round (min / median / max) |`,
    );
    console.log('|---|---|---|');
    console.log(`| ${mib} MiB, MiB/s | ${spread(big.baseline, 1)} | **${spread(baseRatio.big, 2)}×** |`);
    console.log(
      `| undionly.kpxe fetch, ms | ${spread(baseUndi, 1)} | ${spread(baseRatio.undi, 2)}× (time) |`,
    );
    console.log(
      `| ${mib} MiB, server CPU µs per block | ${spread(cpu.baseline, 1)} | ${spread(
        cpu.baseline.map((c, i) => c / cpu.dnsmasq[i]),
        2,
      )}× |`,
    );
  }
}

if (values.serve) await serve(values.serve, values.tree);
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
        ...(values.baseline ? ['--baseline', resolve(values.baseline)] : []),
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
