/**
 * kill -9 of the region while 100 workflows run loses nothing: after a restart every workflow
 * finishes exactly once. A real child process, a real SIGKILL, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ServeProcess, withRestartableServe } from './support/serve-process.ts';

const N = 100;
const FLAGS = ['--lease', '1000', '--simulated-agent-delay', '400', '--agent-poll', '50'];

const api = <T>(s: ServeProcess, method: string, path: string, body?: unknown): Promise<T> =>
  s.api<T>(method, path, body);

async function runCrash(backend: 'sqlite' | 'postgres'): Promise<void> {
  await withRestartableServe(backend, 'ingot-crash', FLAGS, async (run) => {
    let serve = await run.start();
    const ids: string[] = [];
    for (let i = 0; i < N; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, N - i) }, (_, k) =>
          api<{ id: string }>(serve!, 'POST', '/api/v1/machines', {
            hostname: `crash-${i + k}`,
            bmc: { address: `fake://crash-${i + k}`, username: 'admin', password: 'pw' },
            nics: [
              {
                mac: `02:00:00:00:${((i + k) >> 8).toString(16).padStart(2, '0')}:${((i + k) & 255).toString(16).padStart(2, '0')}`,
              },
            ],
          }),
        ),
      );
      ids.push(...batch.map((m) => m.id));
    }
    await Promise.all(ids.map((id) => api(serve!, 'POST', `/api/v1/machines/${id}/actions/commission`, {})));
    // Kill in the middle: steps under way, no workflow finished yet.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const events = await api<{ type: string }[]>(
        serve,
        'GET',
        `/api/v1/machines/${ids[N - 1]}/events?limit=1000`,
      );
      if (events.some((e) => e.type === 'step.completed')) break;
      if (Date.now() > deadline) throw new Error(`no progress before the kill:\n${serve.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await serve.kill('SIGKILL');
    serve = await run.start();
    const s = serve;
    const end = Date.now() + 90_000;
    for (;;) {
      const page = await api<{ total: number }>(s, 'GET', '/api/v1/machines?state=ready&limit=1');
      if (page.total === N) break;
      if (Date.now() > end)
        throw new Error(`only ${page.total} of ${N} machines ready after restart:\n${s.log()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    let resumed = 0;
    for (const id of ids) {
      const events = await api<{ type: string; data: Record<string, unknown> }[]>(
        s,
        'GET',
        `/api/v1/machines/${id}/events?limit=1000`,
      );
      assert.equal(events.filter((e) => e.type === 'job.done').length, 1, `${id}: job.done once`);
      assert.equal(
        events.filter((e) => e.type === 'machine.transition' && e.data.to === 'ready').length,
        1,
        `${id}: ready once`,
      );
      resumed += events.filter((e) => e.type === 'job.resumed').length;
      const jobs = await api<{ status: string }[]>(s, 'GET', `/api/v1/machines/${id}/jobs`);
      assert.deepEqual(
        jobs.map((j) => j.status),
        ['done'],
        `${id}: one job, done`,
      );
    }
    assert.ok(resumed > 0, 'the kill interrupted workflows that were then resumed');
  });
}

describe('crash safety', () => {
  it(
    'finishes all 100 workflows exactly once after kill -9 of the region on SQLite',
    { timeout: 150_000 },
    () => runCrash('sqlite'),
  );
  it(
    'finishes all 100 workflows exactly once after kill -9 of the region on PostgreSQL',
    { timeout: 150_000 },
    () => runCrash('postgres'),
  );
});
