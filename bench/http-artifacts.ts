/**
 * Artifact serving throughput: Ingot's boot HTTP server vs nginx with sendfile, the same 64 MiB
 * file from the same directory, on loopback, measured by wrk at concurrency 1 and 32. The servers
 * run one at a time, alternating, `--rounds` times; the best round of each counts (the machine
 * is shared, so the best round is the least disturbed one).
 *
 *   node bench/http-artifacts.ts [--rounds 2] [--seconds 8] [--workers auto|1] [--size 64]
 *                                [--no-cache [--no-chunk-cache]]
 *
 * --no-cache serves the file the way OS images are served (too big for the whole-file cache):
 * in 4 MiB chunks shared by every request; --no-chunk-cache also reads every chunk from disk
 * (the page cache) for every request, the worst case.
 */
import { type ChildProcess, execFile as execFileCb, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { startBootHttpServer } from '../src/netboot/http/index.ts';
import { openStore } from '../src/store/open.ts';

const execFile = promisify(execFileCb);
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    workers: { type: 'string', default: 'auto' },
    /** Serve from disk (1 MiB reads) instead of the in-memory cache: the path for files too big to cache. */
    'no-cache': { type: 'boolean', default: false },
    'no-chunk-cache': { type: 'boolean', default: false },
    size: { type: 'string', default: '64' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'ingot-http-bench-'));
const root = join(dir, 'artifacts');
mkdirSync(join(root, 'img'), { recursive: true });
const data = Buffer.alloc(Number(values.size) * 2 ** 20);
for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
writeFileSync(join(root, 'img', 'os-64m.img'), data);
// nginx's workers drop root: the tree must be world-readable.
for (const p of [dir, root, join(root, 'img'), join(root, 'img', 'os-64m.img')]) chmodSync(p, 0o755);

/** Refuses to measure a server that does not answer 200 with the whole file. */
async function check(url: string): Promise<void> {
  const res = await fetch(url);
  const len = (await res.arrayBuffer()).byteLength;
  if (res.status !== 200 || len !== data.length)
    throw new Error(`${url}: ${res.status}, ${len} bytes; not benchmarking`);
}

async function wrk(url: string, c: number): Promise<number> {
  const { stdout } = await execFile(
    'wrk',
    ['-t', c === 1 ? '1' : '2', '-c', String(c), '-d', `${values.seconds}s`, url],
    {
      maxBuffer: 2 ** 20,
    },
  );
  const m = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(stdout);
  if (!m) throw new Error(`wrk output without Transfer/sec:\n${stdout}`);
  const unit = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[m[2] as 'B'];
  return (Number(m[1]) * unit) / 2 ** 20; // MiB/s
}

async function startNginx(): Promise<{ url: string; proc: ChildProcess }> {
  const port = 20000 + (process.pid % 20000);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes ${values.workers};
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/ngx-body;
  proxy_temp_path ${dir}/ngx-proxy;
  fastcgi_temp_path ${dir}/ngx-fcgi;
  uwsgi_temp_path ${dir}/ngx-uwsgi;
  scgi_temp_path ${dir}/ngx-scgi;
  server { listen 127.0.0.1:${port}; root ${root}; location /artifacts/ { alias ${root}/; } }
}
`,
  );
  const proc = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await sleep(500);
  return { url: `http://127.0.0.1:${port}/artifacts/img/os-64m.img`, proc };
}

const store = await openStore({ dataDir: join(dir, 'data') });
const results: Record<string, Record<number, number[]>> = {
  nginx: { 1: [], 32: [] },
  ingot: { 1: [], 32: [] },
};
try {
  for (let r = 0; r < Number(values.rounds); r++) {
    const ng = await startNginx();
    try {
      await check(ng.url);
      for (const c of [1, 32]) results.nginx[c].push(await wrk(ng.url, c));
    } finally {
      ng.proc.kill('SIGTERM');
      await sleep(300);
    }
    const ing = await startBootHttpServer({
      store,
      host: '127.0.0.1',
      artifactsDir: root,
      cacheBytes: values['no-cache'] ? 1 : undefined,
      chunkCacheBytes: values['no-chunk-cache'] ? 0 : undefined,
    });
    try {
      const url = `${ing.url}/artifacts/img/os-64m.img`;
      await check(url); // also warms the cache (the first read is from disk)
      for (const c of [1, 32]) results.ingot[c].push(await wrk(url, c));
    } finally {
      await ing.close();
    }
    console.error(`round ${r + 1}: ${JSON.stringify(results)}`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const best = (xs: number[]) => Math.max(...xs);
console.log(
  `host: ${cpus().length} CPUs, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      ' ',
    )}; nginx worker_processes ${values.workers}; file ${values.size} MiB; Ingot ${values['no-cache'] ? (values['no-chunk-cache'] ? 'reading every chunk from disk (--no-cache --no-chunk-cache)' : 'large-file path: shared 4 MiB chunks (--no-cache)') : 'in-memory artifact cache'}`,
);
console.log('| concurrency | nginx (sendfile) | Ingot | Ingot / nginx |');
console.log('|---|---|---|---|');
for (const c of [1, 32]) {
  const n = best(results.nginx[c]);
  const g = best(results.ingot[c]);
  console.log(`| ${c} | ${n.toFixed(0)} MiB/s | ${g.toFixed(0)} MiB/s | **${(g / n).toFixed(2)}×** |`);
}
