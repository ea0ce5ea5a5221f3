/**
 * kill -9 of the region in the middle of `cluster create`: after a restart the create job is
 * taken over and resumes where it was, the cluster runs, every step completed once and the
 * cluster moved to running once. A real child process (`ingot serve`), a real SIGKILL, on
 * SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterYaml } from './support/cluster-seed.ts';
import { seedServeCluster, until } from './support/serve-cluster.ts';
import { withRestartableServe } from './support/serve-process.ts';

const FLAGS = [
  '--lease',
  '1000',
  '--simulated-agent-delay',
  '300',
  '--agent-poll',
  '50',
  '--cluster-poll',
  '50',
];

const CLUSTER = clusterYaml('crash', { net: '10.50' });

interface Event {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

async function runCrash(backend: 'sqlite' | 'postgres'): Promise<void> {
  await withRestartableServe(backend, 'ingot-cluster-crash', FLAGS, async (run) => {
    let serve = await run.start();
    const s0 = serve;
    const ids = await seedServeCluster(s0, {
      net: '10.50',
      prefix: 'crash',
      bmc: 'cluster-crash',
      macByte: '50',
    });
    await s0.api('POST', '/api/v1/clusters', { cluster: CLUSTER });
    // Kill while the members deploy: the create job holds its lease, members' jobs run.
    await until(
      async () =>
        (await s0.api<Event[]>('GET', '/api/v1/clusters/crash/events?limit=1000')).some(
          (e) => e.type === 'cluster.node.deploy',
        ),
      30_000,
      'a member deploy',
      s0.log,
    );
    await s0.kill('SIGKILL');
    serve = await run.start();
    const s = serve;
    const c = await until(
      async () => {
        const r = await s.api<{ cluster: { state: string; stateReason: string } }>(
          'GET',
          '/api/v1/clusters/crash',
        );
        return r.cluster.state === 'running' || r.cluster.state.startsWith('failed') ? r.cluster : null;
      },
      90_000,
      'the cluster to run after the restart',
      s.log,
    );
    assert.equal(c.state, 'running', c.stateReason);
    const events = await s.api<Event[]>('GET', '/api/v1/clusters/crash/events?limit=1000');
    assert.ok(
      events.some((e) => e.type === 'job.resumed'),
      'the takeover of the create job is on the cluster timeline',
    );
    const completed = events.filter((e) => e.type === 'step.completed').map((e) => e.data.step);
    assert.deepEqual(completed, [
      'deploy-nodes',
      'bootstrap-init',
      'bootstrap-control-planes',
      'bootstrap-workers',
      'wait-ready',
    ]);
    assert.equal(events.filter((e) => e.type === 'cluster.transition' && e.data.to === 'running').length, 1);
    for (const id of ids) {
      const m = await s.api<{ state: string; cluster: { cluster: string } | null }>(
        'GET',
        `/api/v1/machines/${id}`,
      );
      assert.equal(m.state, 'deployed');
      assert.equal(m.cluster?.cluster, 'crash');
      const mev = await s.api<Event[]>('GET', `/api/v1/machines/${id}/events?limit=1000`);
      assert.equal(
        mev.filter((e) => e.type === 'machine.transition' && e.data.to === 'deployed').length,
        1,
        `${id} deployed exactly once`,
      );
    }
  });
}

describe('kill -9 mid cluster create', () => {
  it('resumes the create after a restart and runs the cluster, on SQLite', () => runCrash('sqlite'));
  it('resumes the create after a restart and runs the cluster, on PostgreSQL', () => runCrash('postgres'));
});
