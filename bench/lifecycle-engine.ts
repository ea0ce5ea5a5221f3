/**
 * The engine alone (issue 19): N concurrent commission workflows started straight in the store
 * (`requestAction`, no HTTP) and run by one in-process worker with the fake BMC and the
 * simulated agent (no delay), beside the floor measured in the same run on the same SQLite
 * file: raw compare-and-set updates of machine rows, as many as there were transitions (at least
 * 20,000), each its own commit, 32 at once (bench/region.ts's floor). bench/region.ts measures the same
 * workflows through the API; this one leaves the 1,000 HTTP requests and the polls out, to say
 * what the engine and the store cost. Prints each run, then min / median / max of the ratio.
 * Beside it, since 2026-12-06, a second floor for the same run: every SQLite call the store made
 * while the workflows ran (each statement with its parameters, each BEGIN, SAVEPOINT, RELEASE
 * and COMMIT), replayed in order with nothing around them on a copy of the database taken just
 * before — the statements the workflows ran, without the engine. Their time over the
 * workflows' says what the engine, the worker and the store's JavaScript add to their own SQL
 * (1 would be nothing; the issue's goal is stated against the compare-and-set floor only).
 *   node bench/lifecycle-engine.ts [--workflows 1000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import '../src/bmc/fake.ts';
import { requestAction } from '../src/engine/actions.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { Worker } from '../src/engine/worker.ts';
import { openStore } from '../src/store/open.ts';
import { machineInput } from '../src/store/testing.ts';

const { values } = parseArgs({
  options: { workflows: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' } },
});
const N = Number(values.workflows);
const RUNS = Number(values.runs);
const load = () => loadavg()[0].toFixed(1);

/** One SQLite call of the store's: an `exec` (BEGIN, SAVEPOINT…) or a statement with its arguments. */
type Call =
  | { readonly exec: string }
  | { readonly sql: string; readonly method: Method; readonly args: unknown[] };
type Method = 'run' | 'all' | 'get';
const calls: Call[] = [];
// The store's one connection runs every statement through these (src/store/sqlite.ts): wrapped
// in the bench only, and only while the workflows run (the compare-and-set floor runs unwrapped).
const original = {
  exec: DatabaseSync.prototype.exec,
  run: StatementSync.prototype.run,
  all: StatementSync.prototype.all,
  get: StatementSync.prototype.get,
};
function record(): void {
  calls.length = 0;
  DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
    calls.push({ exec: sql });
    return original.exec.call(this, sql);
  };
  for (const method of ['run', 'all', 'get'] as const) {
    const f = original[method] as (this: StatementSync, ...args: unknown[]) => unknown;
    (StatementSync.prototype as unknown as Record<Method, unknown>)[method] = function (
      this: StatementSync,
      ...args: unknown[]
    ) {
      calls.push({ sql: this.sourceSQL, method, args });
      return f.apply(this, args);
    };
  }
}
function stopRecording(): void {
  DatabaseSync.prototype.exec = original.exec;
  Object.assign(StatementSync.prototype, { run: original.run, all: original.all, get: original.get });
}

/** Seconds to run `calls` in order on the database at `path`, opened as the store opens its own. */
function replay(path: string): number {
  const db = new DatabaseSync(path);
  for (const p of ['journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = ON', 'busy_timeout = 5000'])
    db.exec(`PRAGMA ${p}`);
  const statements = new Map<string, StatementSync>();
  const t0 = performance.now();
  for (const c of calls) {
    if ('exec' in c) {
      db.exec(c.exec);
      continue;
    }
    let s = statements.get(c.sql);
    if (!s) {
      s = db.prepare(c.sql);
      statements.set(c.sql, s);
    }
    (s[c.method] as (...args: unknown[]) => unknown)(...c.args);
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return seconds;
}

async function pool(n: number, concurrency: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await f(next++);
    }),
  );
}

async function run(r: number): Promise<{ ratio: number; alone: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-bench-engine-'));
  const store = await openStore({ dataDir: dir });
  try {
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const m = await store.createMachine(
        machineInput({ rack: `r${i % 20}`, bmc: { address: `fake://wf${i}`, username: 'u', password: 'p' } }),
        'bench',
      );
      ids.push(m.id);
    }
    let transitions = 0;
    const worker = new Worker({
      store,
      agent: new FakeAgent(),
      pollMs: 20,
      hooks: { transition: () => void transitions++ },
    });
    // The state the workflows start from, for the statements' replay.
    const snapshot = join(dir, 'before-workflows.db');
    await store.db.run('VACUUM INTO ?', [snapshot]);
    record();
    worker.start();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      ids.map((id) => requestAction(store, { machineId: id, action: 'commission', actor: 'user:bench' })),
    );
    worker.nudge();
    while (transitions < N) await new Promise((res) => setTimeout(res, 2));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    stopRecording();
    await worker.stop();
    const ready = await store.db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM machines WHERE state = 'ready'",
    );
    if (Number(ready[0].n) !== N) throw new Error(`${ready[0].n} of ${N} machines ready`);
    const perSec = (2 * N) / seconds; // new → commissioning, commissioning → ready

    const rows = await store.db.query<{ id: string; version: number }>('SELECT id, version FROM machines');
    const casN = Math.max(2 * N, 20_000); // as bench/region.ts: long enough to be steady
    const c0 = performance.now();
    await pool(casN, 32, async (i) => {
      const row = rows[i % rows.length];
      const changed = await store.db.run(
        'UPDATE machines SET state_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?',
        [`bench ${i}`, Date.now(), row.id, row.version],
      );
      if (changed !== 1) throw new Error(`compare-and-set of ${row.id} changed ${changed} rows`);
      row.version++;
    });
    const casPerSec = casN / ((performance.now() - c0) / 1000);
    const ratio = perSec / casPerSec;
    const alone = replay(snapshot);
    process.stdout.write(
      `run ${r}: ${N} workflows in ${seconds.toFixed(2)} s, ${Math.round(perSec)} transitions/s ` +
        `(${Math.round((cpu.user + cpu.system) / N)} µs CPU per workflow) vs raw CAS ${Math.round(casPerSec)}/s: ` +
        `${ratio.toFixed(3)}×; their ${calls.length} SQLite calls alone ${alone.toFixed(2)} s: ` +
        `${(alone / seconds).toFixed(2)}× the workflows' time (load ${load()})\n`,
    );
    return { ratio, alone: alone / seconds };
  } finally {
    stopRecording(); // a run that threw leaves no wrapped statement behind for the next
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `# engine lifecycle bench ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} × ${cpus()[0].model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load ${load()}\n`,
);
const results: { ratio: number; alone: number }[] = [];
for (let r = 1; r <= RUNS; r++) results.push(await run(r));
const spread = (xs: number[], digits: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(digits)} / median ${s[Math.floor(s.length / 2)].toFixed(digits)} / max ${s[s.length - 1].toFixed(digits)}`;
};
process.stdout.write(
  `engine transitions/s / raw CAS/s (issue 19's goal for the lifecycle ≥ 0.25): ${spread(
    results.map((x) => x.ratio),
    3,
  )}; the same SQLite calls alone / the workflows' time: ${spread(
    results.map((x) => x.alone),
    2,
  )}; load ${load()}\n`,
);
