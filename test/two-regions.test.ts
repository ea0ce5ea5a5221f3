/**
 * Two regions on one PostgreSQL share the work through leases, and when one dies the other
 * takes its jobs over once their leases expire.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Region, startRegion } from '../src/api/region.ts';
import { startPostgres, type TestPostgres } from './support/postgres.ts';
import { pinnedFetch } from './support/region.ts';

describe('two regions on one PostgreSQL', () => {
  let pg: TestPostgres;
  const dirs: string[] = [];
  const regions: Region[] = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await Promise.allSettled(regions.map((r) => r.stop()));
    await pg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('share 40 workflows, and the survivor finishes the dead region’s jobs exactly once', {
    timeout: 60_000,
  }, async () => {
    const database = await pg.freshDatabase();
    const keyDir = mkdtempSync(join(tmpdir(), 'ingot-key-'));
    dirs.push(keyDir);
    const start = async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'ingot-r-'));
      dirs.push(dataDir);
      const r = await startRegion({
        dataDir,
        database,
        secretKeyFile: join(keyDir, 'secret.key'),
        listen: '127.0.0.1:0',
        leaseMs: 600,
        simulatedAgentDelayMs: 300,
        agentPollMs: 30,
        logger: pino({ level: 'silent' }),
      });
      regions.push(r);
      return r;
    };
    const a = await start();
    const b = await start();
    const token = readFileSync(join(a.adminTokenFile ?? join(dirs[1], 'admin.token')), 'utf8').trim();
    const api = async <T>(r: Region, method: string, path: string, body?: unknown) => {
      const res = await pinnedFetch(`sha256:${r.tls!.fingerprint256}`).fetch(`${r.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status}`);
      return (await res.json()) as T;
    };
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const m = await api<{ id: string }>(i % 2 ? a : b, 'POST', '/api/v1/machines', {
        bmc: { address: `fake://two-${i}`, username: 'u', password: 'p' },
        nics: [{ mac: `02:10:00:00:00:${i.toString(16).padStart(2, '0')}` }],
      });
      ids.push(m.id);
    }
    for (const id of ids) await api(a, 'POST', `/api/v1/machines/${id}/actions/commission`, {});
    // Let both regions pick up work, then kill region A without giving back its leases.
    await new Promise((r) => setTimeout(r, 500));
    await a.engine.worker.halt();
    const end = Date.now() + 40_000;
    for (;;) {
      const page = await api<{ total: number }>(b, 'GET', '/api/v1/machines?state=ready&limit=1');
      if (page.total === ids.length) break;
      assert.ok(Date.now() < end, `only ${page.total} ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const owners = new Set<string>();
    let resumedByB = 0;
    for (const id of ids) {
      const events = await api<{ type: string; actor: string; message: string }[]>(
        b,
        'GET',
        `/api/v1/machines/${id}/events?limit=1000`,
      );
      for (const e of events) if (e.actor.startsWith('engine:')) owners.add(e.actor);
      assert.equal(events.filter((e) => e.type === 'job.done').length, 1, `${id}: finished once`);
      resumedByB += events.filter(
        (e) => e.type === 'job.resumed' && e.message.includes(b.engine.owner),
      ).length;
    }
    assert.ok(
      owners.has(`engine:${a.engine.owner}`) && owners.has(`engine:${b.engine.owner}`),
      'both regions took work',
    );
    assert.ok(resumedByB > 0, 'region B took over jobs region A held when it died');
  });
});
