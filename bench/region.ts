/**
 * Region benchmark (issue 2, floors from issue 19): against a real `ingot serve` child process,
 * on SQLite and on PostgreSQL:
 *  - enrol 10,000 machines through the API;
 *  - p50/p99 of listing a filtered page of 500 (state + rack filter) through the API, beside
 *    its floor in the same run: the same query straight on the store (`listMachines`, from
 *    this process on the same database), the two alternating request by request; goal ≤ 3×;
 *  - 1,000 concurrent commission workflows with the fake BMC and simulated agent:
 *    lifecycle transitions committed per second, beside its floor on the same store once the
 *    server is stopped: raw compare-and-set updates of machine rows (`UPDATE … WHERE id = ?
 *    AND version = ?`, each its own commit, 32 at once, at least 20,000); goal ≥ 0.25×;
 *  - the server's peak RSS (VmHWM).
 * PostgreSQL is skipped with a message when no server binary is installed.
 * Usage: node bench/region.ts [--stores sqlite,postgres] [--machines 10000] [--workflows 1000]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WORKFLOW_RULES } from '../src/core/lifecycle.ts';
import { openStore } from '../src/store/open.ts';
import type { SqlStore } from '../src/store/sql-store.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { type ServeProcess, startServe } from '../test/support/serve-process.ts';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: 'sqlite,postgres' },
    machines: { type: 'string', default: '10000' },
    workflows: { type: 'string', default: '1000' },
  },
});
const MACHINES = Number(values.machines);
const WORKFLOWS = Number(values.workflows);

const api = <T>(s: ServeProcess, method: string, path: string, body?: unknown): Promise<T> =>
  s.api<T>(method, path, body);

async function pool<T>(n: number, concurrency: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await f(i);
      }
    }),
  );
  return out;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const hwm = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function run(kind: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), `ingot-bench-${kind}-`));
  const pg = kind === 'postgres' ? await startPostgres({ durable: true }) : null;
  const extra = [
    '--simulated-agent-delay',
    '0',
    '--agent-poll',
    '20',
    '--max-per-rack',
    '1000',
    '--max-per-bmc',
    '8',
  ];
  const database = pg ? await pg.freshDatabase() : undefined;
  if (database) extra.push('--database', database);
  const s = await startServe(dir, extra);
  let store: SqlStore | null = null;
  try {
    const racks = 20;
    const t0 = performance.now();
    const ids = await pool(
      MACHINES,
      16,
      async (i) =>
        (
          await api<{ id: string }>(s, 'POST', '/api/v1/machines', {
            hostname: `n${i}`,
            bmc: { address: `fake://bench-${i}`, username: 'admin', password: 'pw' },
            nics: [
              {
                mac: `02:${[i >> 24, i >> 16, i >> 8, i].map((b) => (b & 255).toString(16).padStart(2, '0')).join(':')}:01`,
              },
            ],
            rack: `r${i % racks}`,
            zone: `z${i % 4}`,
            tags: i % 3 === 0 ? ['gpu'] : [],
          })
        ).id,
    );
    const enrolPerSec = MACHINES / ((performance.now() - t0) / 1000);

    // Filtered page of 500: every machine is `new`, rack r3 holds MACHINES/20 of them. The floor:
    // the same query on the store from this process, alternating with the API request by request.
    store = await openStore({ dataDir: dir, database });
    const lat: number[] = [];
    const floorLat: number[] = [];
    const want = Math.min(500, MACHINES / racks);
    for (let i = 0; i < 300; i++) {
      const viaApi = async () => {
        const a = performance.now();
        const page = await api<{ items: unknown[] }>(
          s,
          'GET',
          `/api/v1/machines?state=new,ready&rack=r${i % racks}&limit=500`,
        );
        lat.push(performance.now() - a);
        if (page.items.length !== want) throw new Error(`page had ${page.items.length} items`);
      };
      const viaStore = async () => {
        const a = performance.now();
        const page = await store!.listMachines({ state: ['new', 'ready'], rack: `r${i % racks}` }, 500);
        floorLat.push(performance.now() - a);
        if (page.items.length !== want) throw new Error(`store page had ${page.items.length} items`);
      };
      if (i % 2) await viaApi().then(viaStore);
      else await viaStore().then(viaApi);
    }
    const tagLat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const a = performance.now();
      await api(s, 'GET', '/api/v1/machines?tag=gpu&zone=z0&limit=500');
      tagLat.push(performance.now() - a);
    }

    // 1,000 concurrent commission workflows.
    const chosen = ids.slice(0, WORKFLOWS);
    const w0 = performance.now();
    await pool(chosen.length, 32, (i) =>
      api(s, 'POST', `/api/v1/machines/${chosen[i]}/actions/commission`, {}),
    );
    let ready = 0;
    while (ready < chosen.length) {
      // 20 ms: the whole burst takes ~1 s quiet, so a coarser poll would add up to a tenth of it.
      await new Promise((r) => setTimeout(r, 20));
      ready = (await api<{ total: number }>(s, 'GET', '/api/v1/machines?state=ready&limit=1')).total;
    }
    const wfSeconds = (performance.now() - w0) / 1000;
    const transitions = chosen.length * 2; // new → commissioning, commissioning → ready
    const metrics = await (
      await s.fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })
    ).text();
    const counted = [...metrics.matchAll(/^ingot_machine_transitions_total\{[^}]*\} (\d+)/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    const peakRssMiB = Math.round(hwm(s.child.pid!));
    // Floor of the lifecycle: raw compare-and-set updates on the same store, the server stopped.
    await s.kill('SIGKILL');
    const rows = await store.db.query<{ id: string; version: number }>(
      'SELECT id, version FROM machines ORDER BY id LIMIT ?',
      [WORKFLOWS],
    );
    // At least 20,000 (~0.4 s): 2,000 took ~40 ms, a span one checkpoint or a thread starting
    // on the other core moved by half.
    const casN = Math.max(transitions, 20_000);
    const c0 = performance.now();
    await pool(casN, 32, async (i) => {
      const r = rows[i % rows.length];
      const changed = await store!.db.run(
        'UPDATE machines SET state_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?',
        [`bench ${i}`, Date.now(), r.id, r.version],
      );
      if (changed !== 1)
        throw new Error(`compare-and-set of ${r.id} at version ${r.version} changed ${changed} rows`);
      r.version++;
    });
    const casPerSec = casN / ((performance.now() - c0) / 1000);
    const transitionsPerSec = transitions / wfSeconds;
    return {
      store: kind,
      machines: MACHINES,
      enrolPerSec: Math.round(enrolPerSec),
      listP50ms: +pct(lat, 50).toFixed(1),
      listP99ms: +pct(lat, 99).toFixed(1),
      storeP50ms: +pct(floorLat, 50).toFixed(1),
      storeP99ms: +pct(floorLat, 99).toFixed(1),
      pageRatioP50: +(pct(lat, 50) / pct(floorLat, 50)).toFixed(2),
      tagListP99ms: +pct(tagLat, 99).toFixed(1),
      workflows: chosen.length,
      steps: WORKFLOW_RULES.commission.steps.length,
      workflowSeconds: +wfSeconds.toFixed(2),
      transitionsPerSec: Math.round(transitionsPerSec),
      transitionsCounted: counted,
      casPerSec: Math.round(casPerSec),
      lifecycleRatio: +(transitionsPerSec / casPerSec).toFixed(3),
      peakRssMiB,
    };
  } finally {
    await s.kill('SIGKILL').catch(() => undefined);
    await store?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A local PostgreSQL to start (test/support/postgres.ts), or an external one named by the environment. */
const postgresInstalled = () => Boolean(process.env.INGOT_TEST_PG_URL) || existsSync('/usr/lib/postgresql');

const results = [];
const load0 = loadavg()[0].toFixed(1);
for (const store of values.stores.split(',') as ('sqlite' | 'postgres')[]) {
  if (store === 'postgres' && !postgresInstalled()) {
    console.log('PostgreSQL skipped: no server binary (apt-get install postgresql); SQLite only');
    continue;
  }
  results.push(await run(store));
}
console.log(
  `# region bench ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} × ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load ${load0} → ${loadavg()[0].toFixed(1)}`,
);
console.table(results);
console.log(JSON.stringify(results));
