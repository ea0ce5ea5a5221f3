/** `ingot serve` as a real child process, for crash tests: start, wait healthy, kill -9. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './postgres.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly token: string;
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
  const url = `http://127.0.0.1:${p}`;
  const end = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ingot serve exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`ingot serve did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = readFileSync(join(dataDir ?? join(cwd, '.ingot'), 'admin.token'), 'utf8').trim();
  return {
    url,
    child,
    token,
    log: () => out,
    api: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
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
