/**
 * kill -9 of the region in the middle of a rolling reconfigure: after a restart the operation's
 * job is taken over and the roll resumes where its progress says it was — the control plane's
 * node agent task is not asked twice, every node is done once, the operation succeeds and the
 * cluster runs. A real child process (`ingot serve`) on a simulated cluster, a real SIGKILL,
 * on SQLite and on PostgreSQL. The same roll on real Kubernetes: cluster-reconfigure-bed.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterYaml } from './support/cluster-seed.ts';
import { seedServeCluster, until } from './support/serve-cluster.ts';
import { type ServeProcess, withRestartableServe } from './support/serve-process.ts';

const FLAGS = [
  '--lease',
  '1000',
  '--simulated-agent-delay',
  '600',
  '--agent-poll',
  '50',
  '--cluster-poll',
  '50',
];
const NET = '10.52';
const FILE = clusterYaml('opcrash', { net: NET });
const CHANGED = `${FILE}  apiServer:\n    extraArgs:\n      max-requests-inflight: "411"\n`;

interface Event {
  type: string;
  message: string;
  data: Record<string, unknown>;
}
interface Op {
  id: string;
  state: string;
  reason: string;
  progress: { nodes: { hostname: string; state: string; step: string | null }[] };
}

async function runCrash(backend: 'sqlite' | 'postgres'): Promise<void> {
  await withRestartableServe(backend, 'ingot-op-crash', FLAGS, async (run) => {
    let serve = await run.start();
    const s0 = serve;
    await seedServeCluster(s0, { net: NET, prefix: 'opc', bmc: 'op-crash', macByte: '52' });
    await s0.api('POST', '/api/v1/clusters', { cluster: FILE });
    const state = async (s: ServeProcess) =>
      (await s.api<{ cluster: { state: string; stateReason: string } }>('GET', '/api/v1/clusters/opcrash'))
        .cluster;
    await until(async () => (await state(s0)).state === 'running', 60_000, 'the cluster to run', s0.log);
    const op = await s0.api<Op>('POST', '/api/v1/clusters/opcrash/reconfigure', { cluster: CHANGED });
    // Kill while the control plane's node agent reconfigures it (the task takes 600 ms).
    await until(
      async () => {
        const [o] = await s0.api<Op[]>('GET', '/api/v1/clusters/opcrash/operations');
        return o.progress.nodes[0].state === 'running' && o.progress.nodes[0].step === null;
      },
      30_000,
      'the control plane reconfiguring',
      s0.log,
    );
    await s0.kill('SIGKILL');
    serve = await run.start();
    const s = serve;
    const done = await until(
      async () => {
        const [o] = await s.api<Op[]>('GET', '/api/v1/clusters/opcrash/operations');
        return o.state !== 'running' ? o : null;
      },
      90_000,
      'the operation to end after the restart',
      s.log,
    );
    assert.equal(done.id, op.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.ok(done.progress.nodes.every((n) => n.state === 'done'));
    await until(async () => (await state(s)).state === 'running', 30_000, 'the cluster running', s.log);
    const events = await s.api<Event[]>('GET', '/api/v1/clusters/opcrash/events?limit=1000');
    assert.ok(
      events.some(
        (e) => e.type === 'job.resumed' && /cluster-operation resumed at step operation/.test(e.message),
      ),
      'the takeover is on the cluster timeline',
    );
    const count = (re: RegExp) => events.filter((e) => re.test(e.message)).length;
    assert.equal(count(/^opc-0: reconfigure started/), 1, 'the control plane started once');
    assert.equal(count(/^opc-0: kube-apiserver manifest regenerated/), 1, 'and reconfigured once');
    for (const w of ['opc-1', 'opc-2']) {
      assert.equal(count(new RegExp(`^${w}: drained: `)), 1, `${w} drained once`);
      assert.equal(count(new RegExp(`^${w}: done: Ready`)), 1, `${w} done once`);
    }
    assert.equal(events.filter((e) => e.type === 'cluster.operation.succeeded').length, 1);
    if (backend === 'sqlite') await osReplaceCrash(run, s);
  });
}

/**
 * kill -9 while a worker's machine is redeploying in an OS replacement: after the restart the
 * operation waits for that redeploy (its machine's newest job is the operation's) instead of
 * starting a second one, rejoins the worker once, and succeeds.
 */
async function osReplaceCrash(run: { start(): Promise<ServeProcess> }, s0: ServeProcess): Promise<void> {
  const cluster = (
    await s0.api<{ cluster: { members: { hostname: string; machineId: string }[] } }>(
      'GET',
      '/api/v1/clusters/opcrash',
    )
  ).cluster;
  const id = cluster.members.find((m) => m.hostname === 'opc-1')!.machineId;
  const op = await s0.api<Op>('POST', '/api/v1/clusters/opcrash/os-replace', {
    image: 'kubernetes-node',
    nodes: ['opc-1'],
  });
  await until(
    async () => (await s0.api<{ state: string }>('GET', `/api/v1/machines/${id}`)).state === 'deploying',
    30_000,
    'opc-1 redeploying',
    s0.log,
  );
  await s0.kill('SIGKILL');
  const s = await run.start();
  const done = await until(
    async () => {
      const [o] = await s.api<Op[]>('GET', '/api/v1/clusters/opcrash/operations');
      return o.state !== 'running' ? o : null;
    },
    90_000,
    'the OS replacement to end after the restart',
    s.log,
  );
  assert.equal(done.id, op.id);
  assert.equal(done.state, 'succeeded', done.reason);
  const events = await s.api<Event[]>('GET', '/api/v1/clusters/opcrash/events?limit=1000');
  const count = (re: RegExp) => events.filter((e) => re.test(e.message)).length;
  assert.equal(
    count(/^opc-1: Node deleted; redeploy with image kubernetes-node started/),
    1,
    'redeploy started once',
  );
  assert.equal(count(/^opc-1: redeployed with image/), 1);
  assert.equal(count(/^opc-1: joined again/), 1, 'joined once');
  const jobs = await s.api<{ kind: string; actor: string }[]>('GET', `/api/v1/machines/${id}/jobs`);
  assert.equal(
    jobs.filter((j) => j.kind === 'deploy').length,
    2,
    `one deploy by the create, one by the OS replacement: ${jobs.map((j) => `${j.kind} ${j.actor}`).join(', ')}`,
  );
}

describe('kill -9 mid rolling reconfigure', () => {
  it('resumes the roll after a restart where it was, every node done once, on SQLite (and an OS replacement killed mid-redeploy)', () =>
    runCrash('sqlite'));
  it('resumes the roll after a restart where it was, every node done once, on PostgreSQL', () =>
    runCrash('postgres'));
});
