/**
 * Scaling a cluster through the engine: real store (SQLite), planner and renderer, the
 * machines' own deploy and release jobs on fake:// BMCs, the fake agent (bootstrap, join
 * token) and the fake Kubernetes API. The real-Kubernetes run is test/cluster-scale.test.ts.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { clusterYaml, readyMachines } from '../../../test/support/cluster-seed.ts';
import { eventually } from '../../../test/support/region.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import type { PkiMaterial } from '../../cluster/pki/types.ts';
import type { Cluster } from '../../core/cluster.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { rejectsWith } from '../../store/testing.ts';
import { FakeAgent } from '../fake-agent.ts';
import type { Worker } from '../worker.ts';
import { createCluster } from './actions.ts';
import { awaitClusterJob, replaceWorker } from './remediate-replace.ts';
import { scaleCluster } from './scale.ts';
import { closeClusterStore, clusterSettled, openClusterStore, QUICK_RETRY, startWorker } from './testing.ts';

describe('cluster scale through the engine', () => {
  let store: SqlStore;
  let dir: string;
  const workers: Worker[] = [];
  const kube = new FakeKube();
  const agent = new FakeAgent({ kube });
  before(async () => {
    ({ store, dir } = await openClusterStore('scale', '10.30'));
    workers.push(startWorker(store, kube, { agent, retry: QUICK_RETRY, limits: { deploys: 2, joins: 1 } }));
  });
  afterEach(() => resetFakeBmcs());
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await closeClusterStore({ store, dir });
  });

  const settled = (id: string, want: string) => clusterSettled(store, id, want, 30_000);
  const workerNames = (c: Cluster) => c.members.filter((m) => m.role === 'worker').map((m) => m.hostname);

  it('adds a worker from a ready machine with a fresh join token, then removes the newest: drained, Node deleted, released, member gone', async () => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 1);
    const { cluster } = await createCluster(store, {
      clusterFile: clusterYaml('sc1', { net: '10.30', workers: 1 }),
      actor: 'user:test',
    });
    const running = await settled(cluster.id, 'running');
    assert.equal(running.state, 'running', running.stateReason);
    const before = new Map(running.members.map((m) => [m.hostname, m.address]));
    const [spare] = await readyMachines(store, 'general', 1);
    await readyMachines(store, 'other', 1); // not of the pool: never picked

    const out = await scaleCluster(store, 'sc1', { workers: 2, actor: 'user:test' });
    assert.equal(out.cluster.state, 'updating');
    assert.ok(out.job);
    assert.equal((await store.getMachine(spare.id)).owner, 'cluster:sc1', 'allocated at once');
    const grown = await settled(cluster.id, 'running');
    assert.equal(grown.state, 'running', grown.stateReason);
    assert.deepEqual(workerNames(grown).sort(), [...workerNames(running), spare.hostname].sort());
    for (const [h, a] of before)
      assert.equal(grown.members.find((m) => m.hostname === h)?.address, a, `${h} kept its address`);
    const added = grown.members.find((m) => m.hostname === spare.hostname)!;
    assert.ok(![...before.values()].includes(added.address), 'the new worker has an address of its own');
    assert.deepEqual(grown.conditions?.nodes, { ready: 3, total: 3 });
    // The join token came from the control plane's node agent, once, and the new worker's files carry it, not the create's.
    const cp = running.members.find((m) => m.role === 'init')!;
    const asks = agent.started.filter((s) => s.task === 'join-token');
    assert.deepEqual(
      asks.map((s) => [s.machineId, s.jobId]),
      [[cp.machineId, out.job.id]],
    );
    const [deploy] = await store.listJobs({ machineId: spare.id }, 1);
    const userData = await store.getSecret(String(deploy.params.userDataSecret));
    const create = (await store.listJobs({ clusterId: cluster.id }, 10)).find(
      (j) => j.kind === 'cluster-create',
    )!;
    const pki = JSON.parse(await store.getSecret(String(create.params.pkiSecret))) as PkiMaterial;
    assert.match(userData, /fake01\.0123456789abcdef/);
    assert.ok(!userData.includes(pki.tokens.bootstrapToken), 'not the 24 h token of the create');
    const events = await store.listEvents({ clusterId: cluster.id, jobId: out.job.id, limit: 1000 });
    assert.ok(events.some((e) => e.type === 'cluster.node.bootstrapped' && e.machineId === spare.id));

    // Scale in: a PDB holds the newest worker first; its reason goes on the timeline, then it proceeds.
    kube.blockedByPdb.set(spare.hostname, 'default/web');
    const down = await scaleCluster(store, 'sc1', { workers: 1, actor: 'user:test' });
    assert.match(down.cluster.stateReason, new RegExp(`remove ${spare.hostname}$`));
    await eventually(
      async () =>
        (await store.listEvents({ clusterId: cluster.id, jobId: down.job!.id, limit: 1000 })).some(
          (e) => e.type === 'cluster.node.drain-blocked' && e.data.pdb === 'default/web',
        ),
      10_000,
      'the PDB on the timeline',
    );
    assert.equal((await store.getCluster(cluster.id)).state, 'updating');
    await rejectsWith(
      scaleCluster(store, 'sc1', { workers: 3, actor: 'user:test' }),
      'INGOT_INVALID_TRANSITION',
    );
    kube.blockedByPdb.delete(spare.hostname);
    const shrunk = await settled(cluster.id, 'running');
    assert.equal(shrunk.state, 'running', shrunk.stateReason);
    assert.deepEqual(workerNames(shrunk), workerNames(running));
    const m = await store.getMachine(spare.id);
    assert.equal(m.state, 'ready');
    assert.equal(m.owner, '');
    const kc = (await store.clusterKubeconfig(cluster.id))!;
    assert.equal(kube.nodes.get(kc)?.has(spare.hostname), false, 'the Node is deleted');
    const types = (await store.listEvents({ clusterId: cluster.id, jobId: down.job!.id, limit: 1000 }))
      .filter((e) => e.machineId === spare.id)
      .map((e) => e.type);
    for (const t of [
      'cluster.node.drain',
      'cluster.node.drained',
      'cluster.node.deleted',
      'cluster.node.release',
      'cluster.node.removed',
    ])
      assert.ok(types.includes(t), `${t} on the timeline`);
    assert.ok(types.indexOf('cluster.node.drained') < types.indexOf('cluster.node.deleted'));
  });

  it("replaces a dead worker with a spare (remediation's replace): the spare joins with a fresh token, the dead one is not drained, marked broken with the reason, not released", async () => {
    await readyMachines(store, 'control', 1);
    await readyMachines(store, 'general', 1);
    const { cluster } = await createCluster(store, {
      clusterFile: clusterYaml('rp1', { net: '10.30', workers: 1 }).replace('10.30.0.10', '10.30.0.11'),
      actor: 'user:test',
    });
    const running = await settled(cluster.id, 'running');
    assert.equal(running.state, 'running', running.stateReason);
    const [dead] = running.members.filter((m) => m.role === 'worker');
    const kc = (await store.clusterKubeconfig(cluster.id))!;
    // The remediation fenced it and deleted its Node before the replace.
    await kube.deleteNode(kc, dead.hostname);
    const [spare] = await readyMachines(store, 'general', 1);
    await rejectsWith(
      replaceWorker(store, 'rp1', {
        node: running.members.find((m) => m.role === 'init')!.hostname,
        spare: spare.id,
        reason: 'x',
        actor: 'remediator',
      }),
      'INGOT_CONFLICT',
    );
    const out = await replaceWorker(store, 'rp1', {
      node: dead.hostname,
      spare: spare.id,
      reason: 'remediation: Node not Ready; power-on failed (not Ready within 90 s)',
      actor: 'remediator',
    });
    assert.equal(out.hostname, spare.hostname);
    assert.equal(out.cluster.state, 'updating');
    assert.equal((await store.getMachine(spare.id)).owner, 'cluster:rp1', 'allocated with the move');
    await awaitClusterJob(store, out.job.id, 30_000);
    const after = await store.getCluster(cluster.id);
    assert.equal(after.state, 'running', after.stateReason);
    assert.deepEqual(workerNames(after), [spare.hostname]);
    assert.deepEqual(after.conditions?.nodes, { ready: 2, total: 2 });
    const m = await store.getMachine(dead.machineId);
    assert.equal(m.state, 'broken');
    assert.equal(m.owner, '', 'out of the cluster: an operator may mark it fixed');
    assert.equal(
      m.stateReason,
      'broken, replaced in cluster rp1: remediation: Node not Ready; power-on failed (not Ready within 90 s)',
    );
    assert.ok(
      !(await store.listJobs({ machineId: dead.machineId }, 10)).some(
        (j) => j.kind === 'release' && j.createdAt >= out.job.createdAt,
      ),
      'never released (a wipe needs it to boot)',
    );
    const asks = agent.started.filter((s) => s.task === 'join-token' && s.jobId === out.job.id);
    assert.equal(asks.length, 1, 'a fresh join token for the spare');
    const types = (await store.listEvents({ clusterId: cluster.id, jobId: out.job.id, limit: 1000 }))
      .filter((e) => e.machineId === dead.machineId)
      .map((e) => e.type);
    assert.ok(types.includes('cluster.node.deleted') && types.includes('cluster.node.removed'), types.join());
    assert.ok(!types.includes('cluster.node.drain'), 'a dead node is not drained');
  });

  it('refuses a scale with too few ready machines of the pool, or a control-plane change, changing nothing', async () => {
    const c = await store.getCluster('sc1');
    const ready = (await store.listMachines({ state: ['ready'], pool: 'general' } as never, 100, null)).items
      .length;
    await rejectsWith(
      scaleCluster(store, 'sc1', { workers: 1 + ready + 1, actor: 'user:test' }),
      'INGOT_VALIDATION',
    );
    await rejectsWith(
      scaleCluster(store, 'sc1', { workers: 1, controlPlanes: 2, actor: 'user:test' }),
      'INGOT_VALIDATION',
    );
    await rejectsWith(
      scaleCluster(store, 'sc1', { remove: [c.members[0].hostname], actor: 'user:test' }),
      'INGOT_VALIDATION',
    );
    const after = await store.getCluster('sc1');
    assert.equal(after.state, 'running');
    assert.deepEqual(after.members, c.members);
    assert.equal(
      (await scaleCluster(store, 'sc1', { workers: 1, actor: 'user:test' })).job,
      null,
      'the count it has: nothing to do',
    );
  });
  it('refuses a control-plane scale of a cluster whose endpoint would not follow it (kube-vip over BGP) with 400 naming controlPlanes, changing nothing', async () => {
    await readyMachines(store, 'control', 3);
    await readyMachines(store, 'general', 1);
    const file = clusterYaml('sc-bgp', { net: '10.30', workers: 1 }).replace(
      '    address: 10.30.0.10\n',
      '    address: 10.30.0.11\n    kubeVip:\n      mode: bgp\n      bgp:\n        asn: 64514\n        peers:\n          - { address: 10.10.0.2, asn: 65001 }\n',
    );
    assert.match(file, /mode: bgp/);
    const { cluster } = await createCluster(store, { clusterFile: file, actor: 'user:test' });
    const running = await settled(cluster.id, 'running');
    assert.equal(running.state, 'running', running.stateReason);
    await assert.rejects(
      scaleCluster(store, 'sc-bgp', { controlPlanes: 3, actor: 'user:test' }),
      (e: Error) => {
        assert.match(
          e.message,
          /^controlPlanes: the control planes of cluster sc-bgp cannot be scaled: its API address is announced by kube-vip over BGP/,
        );
        return true;
      },
    );
    const after = await store.getCluster('sc-bgp');
    assert.equal(after.state, 'running');
    assert.deepEqual(after.members, running.members);
  });
});
