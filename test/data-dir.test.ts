/**
 * The data dir is private to the service user: the dir 0700, ingot.db, its -wal and -shm, the
 * secret key and the admin token 0600 — when a region creates them, when an older version left
 * them readable, and when `ingot rack` is the first to create the data dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './support/postgres.ts';
import { startTestRegion } from './support/region.ts';

const BIN = new URL('../bin/ingot', import.meta.url).pathname;
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

function assertPrivate(dataDir: string, files: string[]): void {
  assert.equal(mode(dataDir), '700', `${dataDir} is 0700`);
  for (const f of files) assert.equal(mode(join(dataDir, f)), '600', `${f} is 0600`);
}

describe('the data dir', () => {
  const root = mkdtempSync(join(tmpdir(), 'ingot-datadir-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const STORE = ['ingot.db', 'ingot.db-wal', 'ingot.db-shm', 'secret.key'];

  it('is created private by a region, with every file in it 0600', async () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = join(root, 'fresh', 'data');
      const r = await startTestRegion({ dataDir });
      try {
        assertPrivate(dataDir, [...STORE, 'admin.token']);
      } finally {
        await r.stop();
      }
    } finally {
      process.umask(previous);
    }
  });

  it('is made private again when an older version left it and its database readable by others', async () => {
    const dataDir = join(root, 'old');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    for (const f of ['ingot.db', 'ingot.db-wal', 'ingot.db-shm']) {
      closeSync(openSync(join(dataDir, f), 'a'));
      chmodSync(join(dataDir, f), 0o644);
    }
    const r = await startTestRegion({ dataDir });
    try {
      assertPrivate(dataDir, STORE);
    } finally {
      await r.stop();
    }
  });

  it('is created private by `ingot rack` when the rack starts first', async () => {
    const dataDir = join(root, 'rack', 'data');
    const port = await freePort();
    const child = spawn(
      BIN,
      [
        'rack',
        '--provisioning-ip',
        '127.0.0.1',
        '--http-port',
        String(port),
        '--no-dhcp',
        '--no-tftp',
        '--no-boot-image',
        '--data',
        dataDir,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INGOT_DATABASE: '' } },
    );
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('INGOT-RACK-READY')) resolve();
        });
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => reject(new Error(`ingot rack exited with ${code}: ${out}`)));
      });
      assertPrivate(dataDir, STORE);
      assert.equal(mode(join(dataDir, 'artifacts')), '700');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
