/**
 * The cluster part of the store contract (store-contract.ts runs it on every backend): a create
 * allocates its machines atomically (two creates never share a machine; a refused create writes
 * nothing), the cluster's job is a job like any other, its end moves the cluster, a deleted
 * cluster lets its machines go, and the admin kubeconfig is sealed.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ClusterMember } from '../core/cluster.ts';
import { ErrorCode } from '../core/errors.ts';
import type { Machine } from '../core/machine.ts';
import type { SqlStore } from './sql-store.ts';
import type { NewCluster } from './store.ts';
import { type Harness, machineInput, rejectsWith } from './testing.ts';

let seq = 0;

async function readyMachines(store: SqlStore, n: number): Promise<Machine[]> {
  const out: Machine[] = [];
  for (let i = 0; i < n; i++)
    out.push(await store.createMachine(machineInput({ state: 'ready', stateReason: 'test' }), 'user:test'));
  return out;
}

function newCluster(machines: Machine[], over: Partial<NewCluster> = {}): NewCluster {
  seq++;
  const members: ClusterMember[] = machines.map((m, i) => ({
    machineId: m.id,
    hostname: m.hostname,
    role: i === 0 ? 'init' : 'worker',
    order: i,
    address: `10.0.0.${10 + i}/24`,
  }));
  return {
    name: `c-${process.pid}-${seq}`,
    clusterFile: 'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\n',
    distribution: 'kubeadm',
    version: '1.30.2',
    endpoint: '10.0.0.5:6443',
    members,
    job: { kind: 'cluster-create', steps: ['deploy-nodes', 'wait-ready'] },
    reason: 'create requested by user:test',
    ...over,
  };
}

export function clustersContract(harness: () => Harness): void {
  const h = {
    get store() {
      return harness().store;
    },
  };

  it('creates a cluster, allocates its machines to it and queues its create job, in one write', async () => {
    const ms = await readyMachines(h.store, 3);
    const input = newCluster(ms);
    const { cluster, job } = await h.store.createCluster(input, 'user:test');
    assert.equal(cluster.state, 'creating');
    assert.deepEqual(
      cluster.members.map((m) => [m.hostname, m.role, m.order]),
      ms.map((m, i) => [m.hostname, i === 0 ? 'init' : 'worker', i]),
    );
    assert.equal(job.clusterId, cluster.id);
    assert.equal(job.machineId, null);
    assert.equal(job.kind, 'cluster-create');
    for (const m of ms) {
      const got = await h.store.getMachine(m.id);
      assert.equal(got.state, 'allocated');
      assert.equal(got.owner, `cluster:${input.name}`);
      const ev = await h.store.listEvents({ machineId: m.id, limit: 10, newestFirst: true });
      assert.equal(ev[0].clusterId, cluster.id, 'the allocation is on the cluster timeline too');
    }
    const timeline = await h.store.listEvents({ clusterId: cluster.id, limit: 20 });
    assert.deepEqual(
      [...new Set(timeline.map((e) => e.type))],
      ['cluster.created', 'machine.transition', 'job.queued'],
    );
    const roles = await h.store.clustersOfMachines(ms.map((m) => m.id));
    assert.deepEqual(roles.get(ms[0].id), { cluster: input.name, role: 'init' });
    assert.deepEqual((await h.store.getCluster(input.name)).id, cluster.id);
    assert.ok((await h.store.listClusters()).some((c) => c.id === cluster.id));
  });

  it('creates a cluster at the time it is given (`at`): its row, its job and its timeline', async () => {
    const at = Date.parse('2026-12-03T03:00:00Z');
    const { cluster, job } = await h.store.createCluster(
      newCluster(await readyMachines(h.store, 1), { at }),
      'user:test',
    );
    assert.equal(cluster.createdAt, '2026-12-03T03:00:00.000Z');
    assert.equal(cluster.stateEnteredAt, '2026-12-03T03:00:00.000Z');
    assert.equal((await h.store.getCluster(cluster.id)).createdAt, '2026-12-03T03:00:00.000Z');
    assert.equal(job.createdAt, '2026-12-03T03:00:00.000Z');
    const [created] = await h.store.listEvents({ clusterId: cluster.id, limit: 1 });
    assert.equal(created.at, '2026-12-03T03:00:00.000Z');
  });

  it('never lets two creates share a machine, and a refused create writes nothing', async () => {
    const ms = await readyMachines(h.store, 3);
    await h.store.createCluster(newCluster(ms.slice(0, 2)), 'user:test');
    const loser = newCluster([ms[2], ms[1]]);
    const e = await rejectsWith(h.store.createCluster(loser, 'user:test'), ErrorCode.ConcurrentUpdate);
    assert.equal(e.details.hostname, ms[1].hostname);
    await rejectsWith(h.store.getCluster(loser.name), ErrorCode.NotFound);
    const free = await h.store.getMachine(ms[2].id);
    assert.equal(free.state, 'ready', 'the machine allocated before the refusal was rolled back');
    assert.equal(free.owner, '');
    const jobs = await h.store.listJobs({ machineId: ms[2].id }, 10);
    assert.equal(jobs.length, 0);
  });

  it('records the members’ planned addresses as their static allocations in the create’s write, and frees them with the cluster', async () => {
    const net = `10.${200 + (seq % 50)}.${process.pid % 250}.0/24`;
    const prefix = net.split('.').slice(0, 3).join('.');
    const subnet = await h.store.createSubnet(
      {
        name: `cl${process.pid}-${seq}`,
        cidr: net,
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'off',
        autoEnlist: false,
        ranges: [],
      },
      'user:test',
    );
    const ms = await readyMachines(h.store, 4);
    const at = (c: NewCluster): NewCluster => ({
      ...c,
      members: c.members.map((m, i) => ({ ...m, address: `${prefix}.${20 + i}/24` })),
    });
    const input = at(newCluster(ms.slice(0, 2)));
    // Already this machine's (an earlier deploy of it): kept as it is, not a conflict.
    await h.store.allocateIp(subnet.id, { machineId: ms[1].id, ip: `${prefix}.21`, kind: 'static' });
    const { cluster } = await h.store.createCluster(input, 'user:test');
    const held = async () =>
      (await h.store.listIps(subnet.id)).map((a) => [a.ip, a.machineId, a.kind, a.expiresAt]);
    assert.deepEqual(await held(), [
      [`${prefix}.20`, ms[0].id, 'static', null],
      [`${prefix}.21`, ms[1].id, 'static', null],
    ]);
    // A plan whose address another machine holds is refused whole: no machine, no address.
    const loser = at(newCluster(ms.slice(2, 4)));
    await h.store.allocateIp(subnet.id, { machineId: ms[0].id, ip: `${prefix}.50`, kind: 'static' });
    const taken = {
      ...loser,
      members: [
        { ...loser.members[0], address: `${prefix}.30/24` },
        { ...loser.members[1], address: `${prefix}.50/24` },
      ],
    };
    const e = await rejectsWith(h.store.createCluster(taken, 'user:test'), ErrorCode.ConcurrentUpdate);
    assert.equal(e.details.ip, `${prefix}.50`);
    assert.equal(e.details.hostname, ms[3].hostname);
    assert.match(e.message, /plan again/);
    assert.equal((await h.store.getMachine(ms[2].id)).state, 'ready');
    assert.equal((await held()).length, 3, 'nothing of the refused create was written');
    // The deleted cluster frees its members’ addresses, not the machines’ other static ones.
    // A move the lifecycle table lacks is refused first, writing nothing.
    const skip = {
      clusterId: cluster.id,
      from: 'creating',
      to: 'deleted',
      reason: 't',
      actor: 'user:test',
    } as const;
    const bad = await rejectsWith(h.store.clusterTransition(skip), ErrorCode.InvalidTransition);
    assert.deepEqual(bad.details, { from: 'creating', to: 'deleted' });
    assert.equal((await held()).length, 3);
    for (const [from, to] of [
      ['creating', 'failed_creating'],
      ['failed_creating', 'deleting'],
      ['deleting', 'deleted'],
    ] as const)
      await h.store.clusterTransition({ clusterId: cluster.id, from, to, reason: 't', actor: 'user:test' });
    assert.deepEqual(await held(), [[`${prefix}.50`, ms[0].id, 'static', null]]);
  });

  it('refuses to delete a machine that belongs to a cluster, naming the cluster', async () => {
    const [m] = await readyMachines(h.store, 1);
    const input = newCluster([m]);
    await h.store.createCluster(input, 'user:test');
    // Even in a deletable state (a failed deploy), a member stays until its cluster goes.
    await h.store.transition({
      machineId: m.id,
      from: 'allocated',
      to: 'failed_deploying',
      reason: 't',
      actor: 't',
    });
    const e = await rejectsWith(h.store.deleteMachine(m.id, 'user:test'), ErrorCode.Conflict);
    assert.equal(e.details.cluster, input.name);
    assert.equal((await h.store.getMachine(m.id)).state, 'failed_deploying');
  });

  it('refuses a second cluster of a name in use, naming metadata.name', async () => {
    const [a, b] = await readyMachines(h.store, 2);
    const first = newCluster([a]);
    await h.store.createCluster(first, 'user:test');
    const e = await rejectsWith(
      h.store.createCluster({ ...newCluster([b]), name: first.name }, 'user:test'),
      ErrorCode.Conflict,
    );
    assert.equal(e.details.field, 'metadata.name');
    assert.equal((await h.store.getMachine(b.id)).state, 'ready');
  });

  it('ends a cluster job with the cluster’s move; a deleted cluster frees its machines and its name', async () => {
    const ms = await readyMachines(h.store, 2);
    const input = newCluster(ms);
    const { cluster, job } = await h.store.createCluster(input, 'user:test');
    const [claimed] = await h.store.claimJobs({
      owner: 'W',
      leaseMs: 60_000,
      limit: 10,
      accept: (c) => c.id === job.id,
    });
    assert.equal(claimed.clusterId, cluster.id);
    const steps = claimed.steps.map((s) => ({ ...s, startedAt: new Date().toISOString() }));
    assert.equal(
      await h.store.finishJob(job.id, 'intruder', {
        status: 'done',
        error: null,
        steps,
        stepIndex: 2,
        cluster: { from: 'creating', to: 'running', reason: 'x' },
        events: [],
      }),
      false,
    );
    assert.equal(
      (await h.store.getCluster(cluster.id)).state,
      'creating',
      'a write without the lease moves nothing',
    );
    assert.ok(
      await h.store.finishJob(job.id, 'W', {
        status: 'done',
        error: null,
        steps,
        stepIndex: 2,
        cluster: { from: 'creating', to: 'running', reason: 'cluster-create finished' },
        events: [],
      }),
    );
    assert.equal((await h.store.getCluster(cluster.id)).state, 'running');

    await h.store.setClusterKubeconfig(cluster.id, 'apiVersion: v1\nkind: Config\n');
    const del = await h.store.clusterTransition({
      clusterId: cluster.id,
      from: 'running',
      to: 'deleting',
      reason: 'delete requested by user:test',
      actor: 'user:test',
      job: { kind: 'cluster-delete', steps: ['release-nodes'] },
    });
    assert.equal(del.cluster.state, 'deleting');
    await rejectsWith(
      h.store.clusterTransition({
        clusterId: cluster.id,
        from: 'running',
        to: 'deleting',
        reason: 'again',
        actor: 'user:test',
      }),
      ErrorCode.ConcurrentUpdate,
    );
    await h.store.claimJobs({ owner: 'W', leaseMs: 60_000, limit: 10, accept: (c) => c.id === del.job!.id });
    assert.ok(
      await h.store.finishJob(del.job!.id, 'W', {
        status: 'done',
        error: null,
        steps: [],
        stepIndex: 1,
        cluster: { from: 'deleting', to: 'deleted', reason: 'cluster-delete finished' },
        events: [],
      }),
    );
    const gone = await h.store.getCluster(cluster.id);
    assert.equal(gone.state, 'deleted');
    assert.deepEqual(gone.members, []);
    assert.equal(gone.hasKubeconfig, false);
    assert.equal(await h.store.clusterKubeconfig(cluster.id), null);
    assert.equal((await h.store.clustersOfMachines(ms.map((m) => m.id))).size, 0);
    assert.ok(!(await h.store.listClusters()).some((c) => c.id === cluster.id));
    assert.ok((await h.store.listClusters({ includeDeleted: true })).some((c) => c.id === cluster.id));
    // The machines were released by their own jobs in the engine; here they are made ready again.
    for (const m of ms)
      await h.store.transition({ machineId: m.id, from: 'allocated', to: 'ready', reason: 't', actor: 't' });
    const again = await h.store.createCluster({ ...newCluster(ms), name: input.name }, 'user:test');
    assert.notEqual(again.cluster.id, cluster.id, 'the name of a deleted cluster may be used again');
  });

  it('seals the admin kubeconfig: readable through the store, nowhere in plaintext', async () => {
    const [m] = await readyMachines(h.store, 1);
    const { cluster } = await h.store.createCluster(newCluster([m]), 'user:test');
    assert.equal(await h.store.clusterKubeconfig(cluster.id), null);
    const secret = `client-key-data: ${Math.random().toString(36).slice(2)}QmFzZTY0`;
    await h.store.setClusterKubeconfig(cluster.id, secret);
    assert.equal(await h.store.clusterKubeconfig(cluster.id), secret);
    assert.equal((await h.store.getCluster(cluster.id)).hasKubeconfig, true);
    assert.ok(!(await harness().dump()).includes(secret), 'kubeconfig found in plaintext in the store');
  });

  it('keeps one agent task per job, machine and task, so a cluster job asks each member once', async () => {
    const ms = await readyMachines(h.store, 2);
    const { job } = await h.store.createCluster(newCluster(ms), 'user:test');
    const a = await h.store.ensureAgentTask({ machineId: ms[0].id, jobId: job.id, name: 'bootstrap' });
    const b = await h.store.ensureAgentTask({ machineId: ms[1].id, jobId: job.id, name: 'bootstrap' });
    const a2 = await h.store.ensureAgentTask({ machineId: ms[0].id, jobId: job.id, name: 'bootstrap' });
    assert.notEqual(a.id, b.id);
    assert.equal(a2.id, a.id);
    assert.equal((await h.store.findAgentTask(job.id, 'bootstrap', ms[1].id))?.id, b.id);
    assert.equal((await h.store.nextAgentTask(ms[1].id))?.id, b.id, 'the member’s agent is handed its task');
  });

  it('stores the conditions the engine read from the cluster', async () => {
    const [m] = await readyMachines(h.store, 1);
    const { cluster } = await h.store.createCluster(newCluster([m]), 'user:test');
    const c = {
      checkedAt: new Date().toISOString(),
      apiReachable: true,
      apiError: null,
      etcd: { healthy: 3, members: 3, quorum: true },
      nodes: { ready: 2, total: 3 },
      certificatesExpireAt: '2027-12-01T00:00:00.000Z',
    };
    await h.store.setClusterConditions(cluster.id, c);
    assert.deepEqual((await h.store.getCluster(cluster.id)).conditions, c);
  });
}
