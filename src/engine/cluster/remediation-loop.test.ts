/**
 * The region's remediation pass on a simulated cluster: created through the engine (real store,
 * planner and renderer, fake:// BMCs, the fake agent), its Kubernetes API a loopback server
 * answering the Node list with workers NotReady for ten minutes and recording every request.
 * Half the workers unhealthy → nothing fenced, nothing deleted, each node's reason on the
 * cluster timeline once; one worker unhealthy → fenced through its BMC, then its Node deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterYaml } from '../../../test/support/cluster-seed.ts';
import { startNodeApi, type NodeApi } from '../../../test/support/node-api.ts';
import { eventually } from '../../../test/support/region.ts';
import { resetFakeBmcs } from '../../bmc/fake.ts';
import type { Cluster } from '../../core/cluster.ts';
import type { HealthSample } from '../../core/health.ts';
import type { Machine } from '../../core/machine.ts';
import { FakeKube } from '../../kube/fake.ts';
import type { SqlStore } from '../../store/sql-store.ts';
import { RemediationLoop } from './remediation-loop.ts';
import {
  bmcOf,
  closeClusterStore,
  nodeObject,
  remediationEvents as eventsOf,
  startRemediationBed,
  startWorker,
} from './testing.ts';

/** A BMC health sample of `machineId` read at `at`, `psusFailed` of its 2 PSUs failed. */
const healthSample = (machineId: string, at: number, psusFailed: number, health: string): HealthSample => ({
  machineId,
  at,
  reachable: true,
  error: null,
  tempMaxCelsius: null,
  fans: null,
  fansFailed: null,
  psus: 2,
  psusFailed,
  watts: null,
  selCritical: null,
  selWarning: null,
  readings: [],
  health,
});

describe('the region remediation loop', () => {
  let store: SqlStore;
  let dir: string;
  let api: NodeApi;
  let cluster: Cluster;
  let machines: Machine[];
  /** Nodes the API reports NotReady. */
  const notReady = new Set<string>();
  const deleted = new Set<string>();

  before(async () => {
    const bed = await startRemediationBed({
      prefix: 'remediation',
      name: 'heal',
      net: '10.20',
      controlPlanes: 1,
      workers: 4,
      maxUnhealthy: '25%',
      kube: new FakeKube(),
    });
    ({ store, dir, cluster, machines } = bed);
    await bed.worker.stop();

    api = await startNodeApi(store, cluster.id, {
      names: () => cluster.members.map((m) => m.hostname).filter((n) => !deleted.has(n)),
      node: (name) => nodeObject(name, notReady.has(name) ? 'Unknown' : 'True'),
      deleted: (n) => deleted.add(n),
    });
  });
  after(async () => {
    api?.close();
    resetFakeBmcs();
    await closeClusterStore({ store, dir });
  });

  const powerCalls = () => machines.flatMap((m) => bmcOf(m).calls.filter((c) => c.includes('power')));
  const remediationEvents = () => eventsOf(store, cluster.id);

  it('remediates nothing when half the workers are unhealthy, and says why per node on the timeline', async () => {
    const workers = cluster.members.filter((m) => m.role === 'worker').map((m) => m.hostname);
    notReady.add(workers[0]);
    notReady.add(workers[1]);
    const before = powerCalls().length;
    const loop = new RemediationLoop({ store, fenceTimeoutMs: 2000, readyTimeoutMs: 2000 });
    const r = await loop.passOn(cluster);
    assert.ok(r);
    assert.match(
      r.plan.halted ?? '',
      /^2 of 5 nodes are unhealthy, more than maxUnhealthy 25% \(1\): likely a partition/,
    );
    assert.deepEqual(r.results, []);
    assert.equal(powerCalls().length, before, 'no BMC was powered');
    assert.ok(!api.requests.some((q) => q.startsWith('DELETE')), 'no Node deleted');
    const ev = await remediationEvents();
    assert.deepEqual(ev.map((e) => e.data.node).sort(), [workers[0], workers[1]].sort());
    for (const e of ev) {
      assert.equal(e.level, 'warning');
      assert.match(e.message, /: 2 of 5 nodes are unhealthy, more than maxUnhealthy/);
      assert.equal(e.machineId, cluster.members.find((m) => m.hostname === e.data.node)!.machineId);
    }
    // The same halt on the next pass is not told again.
    await loop.passOn(cluster);
    assert.equal((await remediationEvents()).length, ev.length);
  });

  it('fences one unhealthy worker through its BMC before deleting its Node', async () => {
    const [w] = cluster.members.filter((m) => m.role === 'worker');
    notReady.clear();
    notReady.add(w.hostname);
    const bmc = bmcOf(machines.find((m) => m.id === w.machineId)!);
    const loop = new RemediationLoop({ store, fenceTimeoutMs: 2000, readyTimeoutMs: 1500 });
    const seen = (await remediationEvents()).length;
    const r = await loop.passOn(cluster);
    assert.equal(r?.plan.halted, null);
    assert.deepEqual(
      r?.plan.start.map((s) => s.node),
      [w.hostname],
    );
    const done = r!.results[0].done.map((d) => [d.step, d.ok]);
    // Fenced and deleted; the simulated node never comes back, so power-on fails, reprovision
    // is not wired, and every machine of the region is in the cluster (no spare): it halts.
    assert.deepEqual(done.slice(0, 2), [
      ['fence', true],
      ['delete-node', true],
    ]);
    assert.equal(r!.results[0].outcome, 'halted');
    assert.ok(
      bmc.calls.some((c) => c.includes('force-off')),
      bmc.calls.join(', '),
    );
    assert.ok(deleted.has(w.hostname));
    const steps = (await remediationEvents())
      .slice(seen)
      .filter((e) => e.data.node === w.hostname)
      .map((e) => e.data.step);
    assert.ok(steps.indexOf('fence') < steps.indexOf('delete-node'), steps.join(' → '));
  });

  it('leaves a cluster alone when its Cluster file does not enable remediation', async () => {
    notReady.clear();
    notReady.add(cluster.members.find((m) => m.role === 'worker' && !deleted.has(m.hostname))!.hostname);
    api.requests.length = 0;
    const loop = new RemediationLoop({ store });
    assert.equal(await loop.passOn({ ...cluster, clusterFile: clusterYaml('heal', { workers: 4 }) }), null);
    assert.deepEqual(api.requests, [], 'the API was not even read');
  });

  it("sweep runs the pass of each running cluster in the background, the region's tick", async () => {
    const [, w] = cluster.members.filter((m) => m.role === 'worker');
    notReady.clear();
    notReady.add(w.hostname);
    const seen = (await remediationEvents()).length;
    const loop = new RemediationLoop({ store, fenceTimeoutMs: 2000, readyTimeoutMs: 500 });
    await loop.sweep();
    assert.ok(loop.busy, 'the pass runs after sweep returns');
    // A second tick while the pass runs does not start the cluster again.
    await loop.sweep();
    await eventually(async () => !loop.busy, 20_000, 'the pass to end');
    loop.stop();
    await loop.sweep();
    assert.equal(loop.busy, false, 'a stopped loop starts no pass');
    const mine = (await remediationEvents()).slice(seen).filter((e) => e.data.node === w.hostname);
    assert.equal(mine.filter((e) => /remediating$/.test(e.message)).length, 1, 'started once');
    assert.ok(mine.some((e) => e.data.step === 'fence' && /done/.test(e.message)));
  });

  it("takes a BMC's Critical from the health poller's samples and goes to a spare, halting without one", async () => {
    const w = cluster.members.filter((m) => m.role === 'worker').at(-1)!;
    notReady.clear();
    const at = Date.now();
    // A stale Critical is not trusted (the fake BMC itself says OK): nothing to do.
    await store.recordHealthSample(healthSample(w.machineId, Date.now() - 3_600_000, 2, 'critical'));
    const loop = new RemediationLoop({ store, fenceTimeoutMs: 2000, readyTimeoutMs: 500 });
    assert.deepEqual((await loop.passOn(cluster))?.plan.start, []);
    await store.recordHealthSample(healthSample(w.machineId, at, 2, 'critical'));
    const r = await loop.passOn(cluster);
    assert.deepEqual(r?.plan.start, [
      { node: w.hostname, cause: 'bmc-critical', reason: 'the BMC reports health Critical' },
    ]);
    const out = r!.results[0];
    assert.deepEqual(
      out.done.map((d) => [d.step, d.ok]),
      [
        ['fence', true],
        ['delete-node', true],
      ],
    );
    assert.equal(out.outcome, 'halted');
    // Every machine of the region is in the cluster: no spare anywhere.
    assert.match(
      out.reason,
      new RegExp(
        `no spare ready machine in ${w.hostname}'s failure domain z1/r1 nor in its zone z1 \\(0 ready`,
      ),
    );
  });

  it('reprovisions a dead worker when the Cluster file allows it: an os-replace of that node, redeployed and rejoined, Ready again', async () => {
    const workers = cluster.members.filter((m) => m.role === 'worker');
    const w = workers[0];
    // The BMC the last case reported Critical says OK again; w alone is NotReady.
    await store.recordHealthSample(healthSample(workers.at(-1)!.machineId, Date.now(), 0, 'ok'));
    notReady.clear();
    notReady.add(w.hostname);
    deleted.clear();
    // The operation's job runs on a worker; its API calls go to the simulated cluster, whose
    // nodes are all Ready (the loopback server stands for the API the remediator reads).
    const kube = new FakeKube();
    kube.uncordon = async () => undefined;
    const worker = startWorker(store, kube);
    // The node comes back once its reprovision (the os-replace operation) has succeeded.
    let stop = false;
    const back = (async () => {
      while (!stop) {
        const [op] = await store.listOperations(cluster.id, 1);
        if (op?.kind === 'os-replace' && op.state === 'succeeded') {
          notReady.delete(w.hostname);
          deleted.delete(w.hostname);
          return op;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    })();
    try {
      const loop = new RemediationLoop({
        store,
        fenceTimeoutMs: 2000,
        readyTimeoutMs: 3000,
        reprovisionTimeoutMs: 60_000,
      });
      const file = cluster.clusterFile.replace(
        'maxUnhealthy: "25%" }',
        'maxUnhealthy: "25%", reprovision: true }',
      );
      assert.notEqual(file, cluster.clusterFile);
      const r = await loop.passOn({ ...cluster, clusterFile: file });
      const out = r!.results[0];
      assert.ok(out, JSON.stringify(r?.plan));
      assert.deepEqual(
        out.done.map((d) => [d.step, d.ok]),
        [
          ['fence', true],
          ['delete-node', true],
          ['power-on', false],
          ['reprovision', true],
        ],
        JSON.stringify(out.done),
      );
      assert.equal(out.outcome, 'recovered');
      assert.equal(out.reason, `${w.hostname} is Ready again after reprovision`);
      const op = await back;
      assert.ok(op);
      assert.deepEqual(op.params.dead, [w.hostname], 'the dead node is not drained');
      assert.deepEqual(
        op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
        [[w.hostname, 'done', 'ready']],
      );
      const [deploy] = (await store.listJobs({ machineId: w.machineId }, 10)).filter(
        (j) => j.kind === 'deploy',
      );
      assert.equal(deploy.params.image, 'kubernetes-node', 'redeployed with the image it ran');
      assert.equal(deploy.status, 'done');
      assert.equal((await store.getCluster(cluster.id)).state, 'running');
    } finally {
      stop = true;
      await worker.stop();
    }
  });
});
