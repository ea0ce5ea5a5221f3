/**
 * `ingot serve` as a real child process, for crash tests: start, wait healthy, kill -9
 * (`withRestartableServe` holds a run's data dir and database across restarts). It
 * serves HTTPS with the certificate it generates in its data dir; `fetch` and `api` pin it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { certFingerprint } from '../../src/tls/fingerprint.ts';
import { join } from 'node:path';
import { freePort, startPostgres, type TestPostgres } from './postgres.ts';
import { type PinnedFetch, pinnedFetch } from './region.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly token: string;
  /** fetch trusting the region's certificate only. */
  readonly fetch: PinnedFetch;
  /** The region's certificate (PEM) for clients that take a CA (node:https); null on plain HTTP. */
  readonly certPem: string | null;
  /** Output so far, for failure messages. */
  log(): string;
  /** Calls the API as admin; throws with the response body on a non-2xx status. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `ingot serve` on DATADIR, or with no --data (the default ./.ingot) when DATADIR is
 * undefined; CWD is its working directory and the checkout whose bin/ingot runs (default: this one).
 */
export async function startServe(
  dataDir: string | undefined,
  extra: string[] = [],
  port?: number,
  cwd: string = ROOT,
): Promise<ServeProcess> {
  const p = port ?? (await freePort());
  const { INGOT_DATA: _, ...env } = process.env;
  const child = spawn(
    join(cwd, 'bin/ingot'),
    [
      'serve',
      ...(dataDir === undefined ? [] : ['--data', dataDir]),
      '--listen',
      `127.0.0.1:${p}`,
      '--log-level',
      'warn',
      ...extra,
    ],
    {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, INGOT_DATABASE: '' },
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const plain = extra.includes('--http') || extra.includes('--insecure-http');
  const url = `${plain ? 'http' : 'https'}://127.0.0.1:${p}`;
  const data = dataDir ?? join(cwd, '.ingot');
  const certFile = join(data, 'tls', 'region.crt');
  let pinned: ReturnType<typeof pinnedFetch> | null = plain ? pinnedFetch(null) : null;
  // A region takes 20 s and more to start on a loaded 2-core machine (other suites, beds); 55 s seen at load 20.
  const end = Date.now() + 150_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ingot serve exited with ${child.exitCode}:\n${out}`);
    // The certificate is the region's first write: pin it once it is there.
    if (!pinned && existsSync(certFile))
      pinned = pinnedFetch(`sha256:${certFingerprint(readFileSync(certFile, 'utf8'))}`);
    const ok = await (pinned?.fetch(`${url}/healthz`) ?? Promise.reject(new Error('no certificate yet')))
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`ingot serve did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
  const f = pinned!.fetch;
  return {
    url,
    child,
    token,
    fetch: f,
    certPem: plain ? null : readFileSync(certFile, 'utf8'),
    log: () => out,
    api: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await f(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** What a kill -9 test holds while it runs: `start()` (re)starts `ingot serve` on the same data. */
export interface RestartableServe {
  /** Starts `ingot serve` on the run's data dir (and database) with the run's flags. */
  start(): Promise<ServeProcess>;
}

/**
 * Runs `body` with a fresh data dir and, on PostgreSQL, a fresh database of a server of its
 * own, for a test that kills the region and starts it again (crash-resume, cluster-crash-resume,
 * cluster-operation-crash). Afterwards, even when `body` fails, the last region is killed, the
 * PostgreSQL server stopped and the data dir removed.
 */
export async function withRestartableServe(
  backend: 'sqlite' | 'postgres',
  prefix: string,
  flags: readonly string[],
  body: (run: RestartableServe) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-${backend}-`));
  let pg: TestPostgres | null = null;
  let serve: ServeProcess | null = null;
  try {
    const extra = [...flags];
    if (backend === 'postgres') {
      pg = await startPostgres();
      extra.push('--database', await pg.freshDatabase());
    }
    await body({
      start: async () => {
        serve = await startServe(dir, extra);
        return serve;
      },
    });
  } finally {
    await (serve as ServeProcess | null)?.kill('SIGKILL').catch(() => undefined);
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `ingot serve` on DATADIR inside the network namespace NS — a test bed's hub, which reaches
 * the bed's cluster API where the host does not — on plain HTTP at the namespace's loopback
 * (nobody outside calls it: the test reads the shared store). Resolves once it says it serves;
 * its output goes to LOGFILE. The child is the region's own process (`ip netns exec` and
 * bin/ingot exec into it), so a signal to its pid reaches the region.
 */
export async function startServeIn(
  ns: string,
  dataDir: string,
  logFile: string,
  extra: string[] = [],
): Promise<ChildProcess> {
  const { INGOT_DATA: _, ...env } = process.env;
  const log = openSync(logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        join(ROOT, 'bin/ingot'),
        'serve',
        '--data',
        dataDir,
        '--listen',
        '127.0.0.1:18080',
        '--http',
        ...extra,
      ],
      { cwd: ROOT, stdio: ['ignore', log, 'pipe'], env: { ...env, INGOT_DATABASE: '' } },
    );
  } finally {
    closeSync(log);
  }
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ingot serve in ${ns} did not start within 150 s:\n${err}`));
    }, 150_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      appendFileSync(logFile, d);
      if (err.includes('ingot: serving')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ingot serve in ${ns} exited (${code}) before serving:\n${err}`));
    });
  });
  return child;
}
