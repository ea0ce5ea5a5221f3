/**
 * Artifact serving throughput: Ingot's boot HTTP server vs nginx (sendfile on), the same file
 * from the same directory, on loopback, measured by wrk at concurrency 1 and 32. Both servers
 * stay up for the whole run and are measured side by side: each round runs wrk against one,
 * then the other (the order alternates per round), so a busy moment on this shared machine
 * hits both. Prints min/median/max of each server and of the per-round ratio, the load
 * average, and Ingot's peak RSS (the memory bound).
 *
 *   node bench/http-artifacts.ts [--rounds 5] [--seconds 6] [--workers auto|1] [--size 64]
 *                                [--no-cache [--no-chunk-cache]] [--tls]
 *
 * --no-cache serves the file the way OS images are served (too big for the whole-file cache):
 * in 4 MiB chunks shared by every request; --no-chunk-cache also reads every chunk from disk
 * (the page cache) for every request, the worst case.
 * --tls measures HTTPS on both sides (the same certificate; nginx without kernel TLS, so its
 * sendfile does not apply): the rack serves OS images over HTTPS only; plain HTTP (the
 * default here) is what firmware fetches kernels, initrds and iPXE binaries over.
 */
import { type ChildProcess, execFile as execFileCb, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import { startBootHttpServer } from '../src/netboot/http/index.ts';
import { openStore } from '../src/store/open.ts';
import { publicKeyPin } from '../src/tls/fingerprint.ts';
import { generateSelfSignedCert } from '../src/tls/self-signed.ts';

const execFile = promisify(execFileCb);
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '6' },
    workers: { type: 'string', default: 'auto' },
    /** Serve in shared 4 MiB chunks instead of the in-memory cache: the path for files too big to cache. */
    'no-cache': { type: 'boolean', default: false },
    'no-chunk-cache': { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    size: { type: 'string', default: '64' },
  },
});
const size = Number(values.size) * 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'ingot-http-bench-'));
const root = join(dir, 'artifacts');
mkdirSync(join(root, 'img'), { recursive: true });
const file = join(root, 'img', 'os.img');
{
  // Written a block at a time: sizes of several GiB must not need that much memory here.
  const block = Buffer.alloc(4 * 2 ** 20);
  const fd = openSync(file, 'w');
  for (let off = 0; off < size; off += block.length) {
    for (let i = 0; i < block.length; i += 4096) block[i] = ((off + i) / 4096) & 0xff;
    writeSync(fd, block, 0, Math.min(block.length, size - off));
  }
  closeSync(fd);
}
// nginx's workers drop root: the tree must be world-readable.
for (const p of [dir, root, join(root, 'img'), file]) chmodSync(p, 0o755);

const cert = values.tls ? await generateSelfSignedCert(['127.0.0.1'], 'Ingot bench') : null;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/** Refuses to measure a server that does not answer 200 with the whole file. */
async function check(url: string): Promise<void> {
  const res = await fetch(url, { dispatcher: insecure });
  let len = 0;
  for await (const c of res.body ?? []) len += (c as Uint8Array).byteLength;
  if (res.status !== 200 || len !== size)
    throw new Error(`${url}: ${res.status}, ${len} bytes; not benchmarking`);
}

async function wrk(url: string, c: number): Promise<number> {
  const { stdout } = await execFile(
    'wrk',
    ['-t', c === 1 ? '1' : '2', '-c', String(c), '-d', `${values.seconds}s`, url],
    { maxBuffer: 2 ** 20 },
  );
  const m = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(stdout);
  if (!m) throw new Error(`wrk output without Transfer/sec:\n${stdout}`);
  const unit = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 }[m[2] as 'B'];
  return (Number(m[1]) * unit) / 2 ** 20; // MiB/s
}

async function startNginx(): Promise<{ url: string; proc: ChildProcess }> {
  const port = 20000 + (process.pid % 20000);
  const conf = join(dir, 'nginx.conf');
  if (cert) {
    writeFileSync(join(dir, 'cert.pem'), cert.certPem);
    writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  }
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
  server {
    listen 127.0.0.1:${port}${cert ? ' ssl' : ''};
    ${cert ? `ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;` : ''}
    root ${root};
    location /artifacts/ { alias ${root}/; }
  }
}
`,
  );
  const proc = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await sleep(500);
  return { url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}/artifacts/img/os.img`, proc };
}

const store = await openStore({ dataDir: join(dir, 'data') });
const results: Record<'nginx' | 'ingot', Record<number, number[]>> = {
  nginx: { 1: [], 32: [] },
  ingot: { 1: [], 32: [] },
};
const loads: number[] = [];
let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);
const ng = await startNginx();
const ing = await startBootHttpServer({
  store,
  host: '127.0.0.1',
  artifactsDir: root,
  cacheBytes: values['no-cache'] ? 1 : undefined,
  chunkCacheBytes: values['no-chunk-cache'] ? 0 : undefined,
  tls: cert ? { certPem: cert.certPem, keyPem: cert.keyPem, publicKeyPin: publicKeyPin(cert.certPem) } : null,
});
const urls = { nginx: ng.url, ingot: `${ing.secureUrl}/artifacts/img/os.img` };
try {
  await check(urls.nginx);
  await check(urls.ingot); // also warms the cache (the first read is from disk)
  for (let r = 0; r < Number(values.rounds); r++) {
    const order = r % 2 === 0 ? (['nginx', 'ingot'] as const) : (['ingot', 'nginx'] as const);
    for (const c of [1, 32]) for (const s of order) results[s][c].push(await wrk(urls[s], c));
    loads.push(loadavg()[0]);
    console.error(`round ${r + 1}: ${JSON.stringify(results)} load ${loadavg()[0].toFixed(2)}`);
  }
} finally {
  clearInterval(rssTimer);
  ng.proc.kill('SIGTERM');
  await ing.close();
  await store.close();
  await sleep(300);
  rmSync(dir, { recursive: true, force: true });
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], d: number) =>
  `${Math.min(...xs).toFixed(d)} / ${median(xs).toFixed(d)} / ${Math.max(...xs).toFixed(d)}`;
const mode = values['no-cache']
  ? values['no-chunk-cache']
    ? 'reading every chunk from disk (--no-cache --no-chunk-cache)'
    : 'large-file path: shared 4 MiB chunks (--no-cache)'
  : 'in-memory artifact cache';
console.log(
  `${new Date().toISOString().slice(0, 16)}Z; host: ${cpus().length} CPUs, 1-min load average ${spread(loads, 2)} (min/median/max over the rounds); ` +
    `${cert ? 'HTTPS (TLS 1.3) on both' : 'plain HTTP'}; nginx worker_processes ${values.workers}; file ${values.size} MiB; ` +
    `Ingot ${mode}; ${values.rounds} rounds of ${values.seconds} s; Ingot's process peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
);
console.log(
  '| concurrency | nginx MiB/s (min / median / max) | Ingot MiB/s (min / median / max) | Ingot / nginx per round (min / median / max) |',
);
console.log('|---|---|---|---|');
for (const c of [1, 32]) {
  const n = results.nginx[c];
  const g = results.ingot[c];
  const ratios = g.map((x, i) => x / n[i]);
  console.log(`| ${c} | ${spread(n, 0)} | ${spread(g, 0)} | **${spread(ratios, 2)}×** |`);
}
