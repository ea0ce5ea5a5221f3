/**
 * A throwaway PostgreSQL server for tests: initdb into a temp dir, listen on a free loopback
 * port, stopped and deleted in `stop()`. Runs as the `postgres` system user (PostgreSQL
 * refuses root). Set INGOT_TEST_PG_URL to use an existing server instead: each call then
 * creates a fresh database on it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  readonly url: string;
  /** Creates an empty database on the server and returns its URL. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) {
    throw new Error(
      'PostgreSQL is not installed: run `apt-get install -y postgresql` (the README quick start does)',
    );
  }
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, version, 'bin');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let counter = 0;

async function createDb(adminUrl: string): Promise<string> {
  const name = `ingot_test_${process.pid}_${Date.now()}_${counter++}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `durable: true` keeps fsync on (benchmarks); tests run with fsync=off for speed. */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<TestPostgres> {
  const external = process.env.INGOT_TEST_PG_URL;
  if (external) {
    return { url: external, freshDatabase: () => createDb(external), stop: async () => undefined };
  }
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'ingot-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync('id', ['-u', 'postgres']).toString()),
      Number(execFileSync('id', ['-g', 'postgres']).toString()),
    );
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args;
    const r = spawnSync(asRoot ? 'runuser' : join(bin, cmd), full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${opts.durable ? 'on' : 'off'} -c max_connections=200`,
    'start',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    freshDatabase: () => createDb(url),
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
