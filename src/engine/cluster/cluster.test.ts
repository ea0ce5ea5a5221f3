/**
 * A 3-node kubeadm cluster created and deleted end to end through the engine: real store
 * (SQLite), real planner and renderer, the machines' own deploy and release jobs on fake://
 * BMCs, the fake agent answering the bootstrap task and a fake Kubernetes API — including a
 * worker killed mid-create whose job another worker resumes.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { clusterYaml, readyMachines } from '../../../test/support/cluster-seed.ts';
import { eventually } from '../../../test/support/region.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import { ErrorCode, IngotError } from '../../core/errors.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { rejectsWith } from '../../store/testing.ts';
import { requestAction } from '../actions.ts';
import { FakeAgent } from '../fake-agent.ts';
import type { Worker } from '../worker.ts';
import { clusterAction, createCluster } from './actions.ts';
import { refreshConditions } from './conditions.ts';
import { needsApiServerRestart } from './create-steps.ts';
import { watchedMachines } from '../wake.ts';
import { closeClusterStore, openClusterStore, QUICK_RETRY, startWorker } from './testing.ts';

const clusterFile = (name: string, workers = 2) => clusterYaml(name, { workers });

describe('clusters through the engine', () => {
  let store: SqlStore;
  let dir: string;
  const workers: Worker[] = [];
  before(async () => {
    ({ store, dir } = await openClusterStore('cluster', '10.20'));
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    resetFakeBmcs();
  });
  after(async () => {
    await closeClusterStore({ store, dir });
  });

  const worker = (kube: FakeKube, agent = new FakeAgent({ kube }), owner?: string) => {
    const w = startWorker(store, kube, {
      agent,
      owner,
      retry: QUICK_RETRY,
      limits: { deploys: 2, joins: 1 },
    });
    workers.push(w);
    return w;
  };

  it('creates a 3-node cluster in order, survives a worker killed mid-create, and deletes it', async () => {
    const cps = await readyMachines(store, 'control', 1);
    const ws = await readyMachines(store, 'general', 2);
    const kube = new FakeKube();
    const agent = new FakeAgent({ kube, delayMs: 40 });
    const { cluster, job } = await createCluster(store, {
      clusterFile: clusterFile('alpha'),
      actor: 'user:test',
    });
    assert.equal(cluster.state, 'creating');
    assert.deepEqual(
      cluster.members.map((m) => [m.hostname, m.role]),
      [[cps[0].hostname, 'init'], ...ws.map((w) => [w.hostname, 'worker'])],
    );
    for (const m of cluster.members) assert.match(m.address, /^10\.20\.0\.\d+\/22$/);

    // The first worker dies while the members deploy; a second one takes the job over.
    const dead = worker(kube, agent, 'region-a');
    await eventually(
      async () =>
        (await store.listEvents({ clusterId: cluster.id, limit: 500 })).some(
          (e) => e.type === 'cluster.node.deploy',
        ),
      20_000,
      'a deploy to start',
    );
    await dead.halt();
    worker(kube, agent, 'region-b');
    const running = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'running' || c.state === 'failed_creating' ? c : null;
      },
      30_000,
      'the cluster to run',
    );
    assert.equal(running.state, 'running', running.stateReason);

    const events = await store.listEvents({ clusterId: cluster.id, limit: 1000 });
    const resumed = events.find((e) => e.type === 'job.resumed');
    assert.ok(resumed, 'the takeover is on the cluster timeline');
    assert.match(resumed.message, /resumed at step deploy-nodes by region-b/);
    const completed = events.filter((e) => e.type === 'step.completed').map((e) => e.data.step);
    assert.deepEqual(completed, [
      'deploy-nodes',
      'bootstrap-init',
      'bootstrap-control-planes',
      'bootstrap-workers',
      'wait-ready',
    ]);
    // Bootstrap order: the init node first, then the workers.
    const boots = events.filter((e) => e.type === 'cluster.node.bootstrapped').map((e) => e.machineId);
    assert.deepEqual(boots, [cps[0].id, ...ws.map((w) => w.id)]);
    const bootstrapAsks = agent.started.filter((s) => s.task === 'bootstrap');
    assert.deepEqual(
      bootstrapAsks.map((s) => s.machineId),
      [cps[0].id, ...ws.map((w) => w.id)],
    );
    assert.ok(bootstrapAsks.every((s) => s.jobId === job.id));

    const userDataSecrets: string[] = [];
    for (const m of [...cps, ...ws]) {
      const got = await store.getMachine(m.id);
      assert.equal(got.state, 'deployed');
      assert.equal(got.owner, 'cluster:alpha');
      const timeline = await store.listEvents({ machineId: m.id, limit: 500 });
      assert.ok(
        timeline.some((e) => e.type === 'cluster.node.bootstrapped' && e.clusterId === cluster.id),
        'the bootstrap is on the machine’s timeline',
      );
      const [deploy] = await store.listJobs({ machineId: m.id }, 1);
      assert.equal(deploy.kind, 'deploy');
      assert.equal(deploy.params.userData, undefined, 'the user-data (keys, tokens) is not in the job');
      const userData = await store.getSecret(String(deploy.params.userDataSecret));
      assert.match(userData, /^#cloud-config/);
      assert.doesNotMatch(userData, /runcmd/, 'the node agent runs the bootstrap, not cloud-init');
      userDataSecrets.push(String(deploy.params.userDataSecret));
    }
    assert.ok(running.hasKubeconfig);
    assert.match((await store.clusterKubeconfig(cluster.id))!, /ingot-fake-cluster: cluster:alpha/);
    assert.deepEqual(running.conditions?.nodes, { ready: 3, total: 3 });

    // Its machines move with the cluster: an operator's release is refused, a power action is not.
    const direct = await rejectsWith(
      requestAction(store, { machineId: ws[0].id, action: 'release', actor: 'user:ops' }),
      ErrorCode.Conflict,
    );
    assert.equal(direct.details.cluster, 'alpha');
    await requestAction(store, { machineId: ws[0].id, action: 'power-on', actor: 'user:ops' });

    // A second create of the same name is refused while this one lives.
    await rejectsWith(
      createCluster(store, { clusterFile: clusterFile('alpha'), actor: 'user:test' }),
      ErrorCode.Conflict,
    );

    const del = await clusterAction(store, 'alpha', 'delete', 'user:test');
    assert.equal(del.cluster.state, 'deleting');
    const deleted = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'deleted' || c.state === 'failed_deleting' ? c : null;
      },
      30_000,
      'the cluster to be deleted',
    );
    assert.equal(deleted.state, 'deleted', deleted.stateReason);
    assert.deepEqual(kube.cordoned, new Set([cps[0].hostname, ...ws.map((w) => w.hostname)]));
    for (const m of [...cps, ...ws]) {
      const got = await store.getMachine(m.id);
      assert.equal(got.state, 'ready');
      assert.equal(got.owner, '');
    }
    assert.equal(await store.clusterKubeconfig(cluster.id), null);
    for (const id of userDataSecrets) await rejectsWith(store.getSecret(id), ErrorCode.NotFound);
    await rejectsWith(store.getSecret(String(job.params.pkiSecret)), ErrorCode.NotFound);
    await rejectsWith(store.getSecret(String(job.params.joinTokenSecret)), ErrorCode.NotFound);
  });

  it('fails the create with the node’s own message, and retry resumes at the failed step', async () => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 2);
    const kube = new FakeKube();
    const { cluster } = await createCluster(store, { clusterFile: clusterFile('beta'), actor: 'user:test' });
    const last = cluster.members.at(-1)!;
    const agent = new FakeAgent({ kube, failBootstrap: { [last.hostname]: 'kubeadm join: etcd timeout' } });
    worker(kube, agent);
    const failed = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'failed_creating' || c.state === 'running' ? c : null;
      },
      30_000,
      'the create to fail',
    );
    assert.equal(failed.state, 'failed_creating');
    assert.match(
      failed.stateReason,
      new RegExp(`${last.hostname} failed to bootstrap: .*kubeadm join: etcd timeout`),
    );

    // The create's own join token: fresh (not the PKI's), 2 h, in every node's sealed user-data
    // and nowhere else — not in the job's params, not on the timeline.
    const [create] = await store.listJobs({ clusterId: cluster.id }, 1);
    const token = JSON.parse(await store.getSecret(String(create.params.joinTokenSecret))) as {
      token: string;
      ttlSeconds: number;
    };
    assert.match(token.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.equal(token.ttlSeconds, 7200);
    const pki = JSON.parse(await store.getSecret(String(create.params.pkiSecret)));
    assert.notEqual(token.token, pki.tokens.bootstrapToken);
    for (const m of cluster.members) {
      const [deploy] = await store.listJobs({ machineId: m.machineId }, 1);
      const userData = await store.getSecret(String(deploy.params.userDataSecret));
      assert.ok(userData.includes(`token: ${token.token}`), `${m.hostname}'s kubeadm config has the token`);
      if (m.role === 'init') assert.match(userData, /ttl: 2h0m0s/);
    }
    const leaked = (x: unknown) => JSON.stringify(x).includes(token.token.split('.')[1]);
    assert.ok(!leaked(create.params), 'the token is not in the job');
    assert.ok(!leaked(await store.listEvents({ clusterId: cluster.id, limit: 1000 })), 'nor on the timeline');

    // Hours later kubeadm's token cleaner has removed it: the retry's joins re-create it on the
    // control plane first (the same token the joiners were deployed with, a fresh expiry).
    const onCp = [...kube.joinTokens.values()][0];
    assert.ok(onCp.has(token.token), 'the control plane had the token from kubeadm init');
    onCp.set(token.token, Date.now() - 1000);
    delete agent.options.failBootstrap;
    const retry = await clusterAction(store, 'beta', 'retry', 'user:test');
    assert.equal(retry.cluster.state, 'creating');
    assert.deepEqual(
      retry.job?.steps.map((s) => s.name),
      ['bootstrap-workers', 'wait-ready'],
    );
    const running = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'running' || c.state === 'failed_creating' ? c : null;
      },
      30_000,
      'the retried create',
    );
    assert.equal(running.state, 'running', running.stateReason);
    assert.ok((onCp.get(token.token) ?? 0) > Date.now() + 7000_000, 're-created with a fresh 2 h expiry');
    const recreated = (await store.listEvents({ clusterId: cluster.id, limit: 1000 })).filter(
      (e) => e.type === 'cluster.join-token.created',
    );
    assert.equal(recreated.length, 1, 'once, before the pending join');
    assert.ok(!leaked(recreated));

    // The API goes away: the conditions say so, and the delete skips the drain with a note.
    kube.apiDown = true;
    assert.equal(await refreshConditions(store, kube), 1);
    const down = await store.getCluster(cluster.id);
    assert.equal(down.conditions?.apiReachable, false);
    assert.match(down.conditions?.apiError ?? '', /ECONNREFUSED/);
    await clusterAction(store, 'beta', 'delete', 'user:test', { wipe: 'secure' });
    const deleted = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'deleted' || c.state === 'failed_deleting' ? c : null;
      },
      30_000,
      'the delete',
    );
    assert.equal(deleted.state, 'deleted', deleted.stateReason);
    const events = await store.listEvents({ clusterId: cluster.id, limit: 1000 });
    const drain = events.find((e) => e.type === 'step.completed' && e.data.step === 'drain');
    assert.match(drain?.message ?? '', /drain done: skipped: the API does not answer/);
    const releases = agent.started.filter((t) => t.task === 'wipe');
    assert.equal(releases.length, 3, 'every member was wiped');
  });

  it('restarts the init node’s kube-apiserver after the last control-plane join on Kubernetes 1.20 (kubernetes#97294), before the workers', async () => {
    assert.equal(needsApiServerRestart({ distribution: 'kubeadm', version: 'v1.20.2' }, 3), true);
    assert.equal(needsApiServerRestart({ distribution: 'kubeadm', version: 'v1.20.2' }, 1), false);
    assert.equal(needsApiServerRestart({ distribution: 'kubeadm', version: 'v1.21.14' }, 3), false);
    assert.equal(needsApiServerRestart({ distribution: 'kubeadm', version: 'v1.2.0' }, 3), false);
    assert.equal(needsApiServerRestart({ distribution: 'k3s', version: 'v1.20.2' }, 3), false);
    await readyMachines(store, 'control', 3);
    await readyMachines(store, 'general', 1);
    const kube = new FakeKube();
    const agent = new FakeAgent({
      kube,
      failTasks: { 'restart-apiserver': 'no kube-apiserver runs on this node' },
    });
    worker(kube, agent);
    const file = clusterFile('eps', 1)
      .replace('version: v1.30.2', 'version: v1.20.2')
      .replace('count: 1\n    machines: { pool: control }', 'count: 3\n    machines: { pool: control }');
    const { cluster } = await createCluster(store, { clusterFile: file, actor: 'user:test' });
    const settled = async (what: string) =>
      eventually(
        async () => {
          const c = await store.getCluster(cluster.id);
          return c.state === 'running' || c.state === 'failed_creating' ? c : null;
        },
        30_000,
        what,
      );
    const init = cluster.members.find((m) => m.role === 'init')!;
    // kubeadm 1.20's `join --control-plane` loads only an RSA service-account key (its
    // preflight: "sa.key isn't in RSA format"): the one a joining control plane is deployed with.
    const [create] = await store.listJobs({ clusterId: cluster.id }, 1);
    const pki = JSON.parse(await store.getSecret(String(create.params.pkiSecret))) as PkiMaterial;
    assert.equal(createPrivateKey(pki.files['sa.key']).asymmetricKeyType, 'rsa');
    const failed = await settled('the restart to fail');
    assert.equal(failed.state, 'failed_creating');
    assert.match(
      failed.stateReason,
      new RegExp(
        `${init.hostname} failed to restart its kube-apiserver after the control-plane joins .*kubernetes#97294.*no kube-apiserver runs`,
      ),
    );
    delete agent.options.failTasks;
    await clusterAction(store, 'eps', 'retry', 'user:test');
    const running = await settled('the retried create');
    assert.equal(running.state, 'running', running.stateReason);
    // In order: init, the two other control planes, the restart on the init node; the retry
    // (a new job) asks the joined control planes again (their bootstrap is a no-op once done),
    // restarts again, then the worker.
    const byId = new Map(cluster.members.map((m) => [m.machineId, m]));
    const asks = agent.started
      .filter((t) => byId.has(t.machineId) && (t.task === 'bootstrap' || t.task === 'restart-apiserver'))
      .map((t) => `${byId.get(t.machineId)!.role}:${t.task}`);
    assert.deepEqual(asks, [
      'init:bootstrap',
      'control-plane:bootstrap',
      'control-plane:bootstrap',
      'init:restart-apiserver',
      'control-plane:bootstrap',
      'control-plane:bootstrap',
      'init:restart-apiserver',
      'worker:bootstrap',
    ]);
    const restarted = (await store.listEvents({ clusterId: cluster.id, limit: 1000 })).filter(
      (e) => e.type === 'cluster.node.apiserver-restarted',
    );
    assert.deepEqual(
      restarted.map((e) => e.machineId),
      [init.machineId],
    );
  });

  it("checks the join token on the control plane once, not on every poll of the joins: the API's blips while control planes join fail nothing", async () => {
    await readyMachines(store, 'control', 3);
    await readyMachines(store, 'general', 1);
    const kube = new FakeKube();
    const ensure = kube.ensureBootstrapToken.bind(kube);
    let checks = 0;
    // The API answers the first check, then blips on every later one (an etcd member joining).
    kube.ensureBootstrapToken = async (k, t) => {
      if (++checks > 1)
        throw new IngotError(
          ErrorCode.Unreachable,
          'join token on the control plane: fetch failed (ECONNRESET)',
          {
            retryable: true,
          },
        );
      return ensure(k, t);
    };
    worker(kube, new FakeAgent({ kube, delayMs: 300 }));
    const file = clusterFile('tok', 1).replace(
      'count: 1\n    machines: { pool: control }',
      'count: 3\n    machines: { pool: control }',
    );
    const { cluster } = await createCluster(store, { clusterFile: file, actor: 'user:test' });
    const done = await eventually(
      async () => {
        const c = await store.getCluster(cluster.id);
        return c.state === 'running' || c.state === 'failed_creating' ? c : null;
      },
      30_000,
      'the create',
    );
    assert.equal(done.state, 'running', done.stateReason);
    assert.equal(checks, 1, 'the token checked once for the control planes and the worker');
  });

  it('refuses a create that needs more machines than are ready, naming the pool, and allocates nothing', async () => {
    const before = (await store.listMachines({ state: ['ready'] }, 1)).total;
    const e = await rejectsWith(
      createCluster(store, { clusterFile: clusterFile('gamma', 50), actor: 'user:test' }),
      ErrorCode.Validation,
    );
    assert.equal(e.details.stage, 'plan');
    assert.match(e.message, /needs 50 general machines/);
    assert.equal((await store.listMachines({ state: ['ready'] }, 1)).total, before);
    await rejectsWith(store.getCluster('gamma'), ErrorCode.NotFound);
  });

  it('refuses a delete of a cluster being created, listing what is allowed, and of one that does not exist', async () => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 1);
    const { cluster } = await createCluster(store, {
      clusterFile: clusterFile('delta', 1),
      actor: 'user:test',
    });
    const e = await rejectsWith(
      clusterAction(store, cluster.name, 'delete', 'user:test'),
      ErrorCode.InvalidTransition,
    );
    assert.deepEqual(e.details.allowed, []);
    assert.equal(e.details.state, 'creating');
    await rejectsWith(clusterAction(store, 'no-such', 'delete', 'user:test'), ErrorCode.NotFound);
  });

  it('goes on from deploy-nodes as soon as its members’ deploys ended here, not at the next poll', async () => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 2);
    const kube = new FakeKube();
    // A poll far longer than the deploys: only the wake-up can end the step before it.
    workers.push(
      startWorker(store, kube, {
        agent: new FakeAgent({ kube }),
        retry: QUICK_RETRY,
        limits: { deploys: 10, joins: 10, pollMs: 60_000 },
      }),
    );
    const { cluster } = await createCluster(store, { clusterFile: clusterFile('wake'), actor: 'user:test' });
    const completed = await eventually(
      async () =>
        (await store.listEvents({ clusterId: cluster.id, limit: 500 })).find(
          (e) => e.type === 'step.completed' && e.data.step === 'deploy-nodes',
        ) ?? null,
      30_000,
      'deploy-nodes to complete',
    );
    assert.ok(Number(completed.data.ms) < 30_000, `deploy-nodes took ${completed.data.ms} ms`);
    for (const m of cluster.members) assert.equal((await store.getMachine(m.machineId)).state, 'deployed');
    assert.equal(watchedMachines(), 0, 'no waiter left behind');
  });
});
