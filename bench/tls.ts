/**
 * What HTTPS costs: the region's API over HTTPS (pinned, as the CLI does) vs plain HTTP, with
 * kept-alive connections and with a new connection per request; a rack's large artifact (the way
 * OS images go to the agent) over HTTPS with the agent's curl pin vs plain HTTP; and generating
 * a certificate on first start. Loopback, best of `--rounds`.
 *
 *   node bench/tls.ts [--rounds 3] [--requests 2000] [--size 256]
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import pino from 'pino';
import { Agent, request } from 'undici';
import { startRegion } from '../src/api/region.ts';
import { startBootHttpServer } from '../src/netboot/http/index.ts';
import { openStore } from '../src/store/open.ts';
import { publicKeyPin } from '../src/tls/fingerprint.ts';
import { createDispatcher } from '../src/tls/pinned-dispatcher.ts';
import { PlainHttp } from '../src/tls/plain-http.ts';
import { generateSelfSignedCert } from '../src/tls/self-signed.ts';

const execFile = promisify(execFileCb);
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '2000' },
    size: { type: 'string', default: '256' },
  },
});
const ROUNDS = Number(values.rounds);
const N = Number(values.requests);
const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-tls-'));
const pct = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const round2 = (x: number) => Math.round(x * 100) / 100;

async function api(mode: 'https' | 'http') {
  const dataDir = join(dir, `region-${mode}`);
  const region = await startRegion({
    dataDir,
    listen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    plainHttp: mode === 'http' ? PlainHttp.Loopback : PlainHttp.Off,
  });
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const dispatcher = () =>
    region.tls
      ? createDispatcher({ fingerprint: region.tls.fingerprint256, timeoutMs: 10_000 })
      : new Agent({ keepAliveTimeout: 30_000 });
  const run = async (fresh: boolean) => {
    const lat: number[] = [];
    const count = fresh ? Math.min(N, 300) : N;
    let d = dispatcher();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      if (fresh && i > 0) {
        await d.close();
        d = dispatcher();
      }
      const s = performance.now();
      const res = await request(`${region.url}/api/v1/version`, {
        dispatcher: d,
        headers: { authorization: `Bearer ${token}` },
      });
      await res.body.text();
      lat.push(performance.now() - s);
    }
    const secs = (performance.now() - t0) / 1000;
    await d.close();
    return {
      perSecond: Math.round(count / secs),
      p50ms: round2(pct(lat, 0.5)),
      p99ms: round2(pct(lat, 0.99)),
    };
  };
  const best = async (fresh: boolean) => {
    let b: Awaited<ReturnType<typeof run>> | null = null;
    for (let r = 0; r < ROUNDS; r++) {
      const x = await run(fresh);
      if (!b || x.perSecond > b.perSecond) b = x;
    }
    return b!;
  };
  const out = { keepAlive: await best(false), newConnectionEach: await best(true) };
  await region.stop();
  return out;
}

async function artifact() {
  const store = await openStore({ dataDir: join(dir, 'rack') });
  const root = join(dir, 'artifacts');
  mkdirSync(join(root, 'img'), { recursive: true });
  const data = Buffer.alloc(Number(values.size) * 2 ** 20);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  writeFileSync(join(root, 'img', 'big.img'), data);
  const cert = await generateSelfSignedCert(['127.0.0.1'], 'bench rack');
  const pin = publicKeyPin(cert.certPem);
  writeFileSync(join(dir, 'tls.curlrc'), `insecure\npinnedpubkey = "${pin}"\n`);
  const servers = {
    http: await startBootHttpServer({ store, host: '127.0.0.1', artifactsDir: root }),
    https: await startBootHttpServer({
      store,
      host: '127.0.0.1',
      artifactsDir: root,
      tls: { certPem: cert.certPem, keyPem: cert.keyPem, publicKeyPin: pin },
    }),
  };
  const result: Record<string, number> = {};
  for (let r = 0; r < ROUNDS; r++)
    for (const mode of ['http', 'https'] as const) {
      const s = servers[mode];
      const args = [
        ...(mode === 'https' ? ['-K', join(dir, 'tls.curlrc')] : []),
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{speed_download}',
        `${mode === 'https' ? s.secureUrl : s.url}/artifacts/img/big.img`,
      ];
      const { stdout } = await execFile('curl', args);
      const mibps = Math.round(Number(stdout) / 2 ** 20);
      result[mode] = Math.max(result[mode] ?? 0, mibps);
    }
  await servers.http.close();
  await servers.https.close();
  await store.close();
  return {
    sizeMiB: Number(values.size),
    httpMiBps: result.http,
    httpsMiBps: result.https,
    ratio: round2(result.https / result.http),
  };
}

async function generate() {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await generateSelfSignedCert(['127.0.0.1', '10.0.0.1', 'localhost'], 'bench');
    ms.push(performance.now() - t);
  }
  return { certificateMs: round2(pct(ms, 0.5)) };
}

try {
  const result = {
    date: new Date().toISOString(),
    api: { https: await api('https'), http: await api('http') },
    artifact: await artifact(),
    generate: await generate(),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
