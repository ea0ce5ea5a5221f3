/**
 * TFTP throughput, Ingot against dnsmasq's TFTP, side by side in one run: both serve the same
 * files on 127.0.0.1:69 inside a network namespace this script creates (and deletes), and
 * atftp fetches them with blksize 1468 (plus windowsize 8 for servers that support it).
 * Needs root, atftp and dnsmasq.   node bench/tftp.ts [--runs 5] [--mib 16]
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '16' },
    inner: { type: 'string' },
  },
});
const runs = Number(values.runs);

// Async on purpose: the Ingot server runs in this process, so a blocking spawnSync would stall it.
async function fetch(file: string, out: string, options: string[]): Promise<number> {
  const t0 = performance.now();
  const args = options.flatMap((o) => ['--option', o]);
  await run('atftp', [...args, '-g', '-r', file, '-l', out, '127.0.0.1', '69'], { timeout: 120_000 });
  return (performance.now() - t0) / 1000;
}

async function times(n: number, f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function inner(root: string): Promise<void> {
  const bytes = Number(values.mib) * 1048576;
  const rows: string[] = [];
  const measure = async (
    server: string,
    start: () => Promise<() => Promise<void>>,
    variants: [string, string[]][],
  ) => {
    const stop = await start();
    try {
      for (const [label, opts] of variants) {
        const big_s = median(await times(runs, () => fetch('bench.bin', join(root, 'out.bin'), opts)));
        const small = median(
          await times(runs * 4, () => fetch('undionly.kpxe', join(root, 'out.kpxe'), opts)),
        );
        rows.push(
          `| ${server} | ${label} | ${(bytes / 1048576 / big_s).toFixed(1)} MiB/s | ${(small * 1000).toFixed(1)} ms |`,
        );
      }
    } finally {
      await stop();
    }
  };
  const { startTftpServer } = await import('../src/netboot/tftp/index.ts');
  const { default: pino } = await import('pino');
  await measure('ingot', async () => {
    const s = await startTftpServer({
      root,
      bind: { address: '127.0.0.1', port: 69 },
      allow: ['bench.bin', 'undionly.kpxe'],
      logger: pino({ level: 'warn' }),
    });
    return () => s.close();
  }, [
    ['blksize 1468', ['blksize 1468']],
    ['blksize 1468, windowsize 8', ['blksize 1468', 'windowsize 8']],
  ]);
  await measure('dnsmasq', async () => {
    const d = spawn(
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
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--log-facility=-',
        `--pid-file=${join(root, 'dnsmasq.pid')}`,
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 500));
    return async () => {
      const done = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await done;
    };
  }, [['blksize 1468', ['blksize 1468']]]);
  console.log(
    `TFTP, atftp ${spawnSync('atftp', ['-V']).stderr.toString().trim().split('\n')[0]} on 127.0.0.1 in a namespace; ${values.mib} MiB file and undionly.kpxe (74 KB); medians of ${runs} / ${runs * 4} fetches`,
  );
  console.log('| server | options | throughput (big file) | undionly.kpxe fetch |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
}

if (values.inner) await inner(values.inner);
else {
  const ns = `tftpb${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'ingot-tftp-bench-'));
  try {
    writeFileSync(join(root, 'bench.bin'), randomBytes(Number(values.mib) * 1048576));
    copyFileSync('/usr/lib/ipxe/undionly.kpxe', join(root, 'undionly.kpxe'));
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
