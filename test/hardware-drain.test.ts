/**
 * Hardware-driven drain in a region (docs/day2.md) on a simulated two-node cluster: SMART
 * reports and BMC samples go through the store as the real ones do; the region's hardware watch
 * applies the Cluster file's `spec.hardware.onRisk` once per episode, with the reason on the
 * cluster's and the machine's timelines. A drain is a `drain` operation (actor `hardware-watch`)
 * whose end is told on the machine too; while another operation holds the cluster the node is
 * cordoned and the drain started on a later pass, by this watch or one started afresh.
 * Against real Kubernetes: test/hardware-drain-bed.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { HealthSample } from '../src/core/health.ts';
import { HARDWARE_RISK_EVENT, HardwareWatch } from '../src/engine/cluster/hardware-watch.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { eventsOf, operationEnded, reportDisk, runningCluster, SERIAL } from './support/hardware-drain.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

const RISE = `disk sdb (serial ${SERIAL}): reallocated sectors 8 → 24`;

const hot = (machineId: string, at: number): HealthSample => ({
  machineId,
  at,
  reachable: true,
  health: 'critical',
  error: null,
  tempMaxCelsius: 97,
  fans: 2,
  fansFailed: 0,
  psus: 2,
  psusFailed: 0,
  watts: 300,
  selCritical: 0,
  selWarning: 0,
  readings: [{ name: 'CPU1 Temp', kind: 'temperature', value: 97, unit: 'Cel', health: 'critical' }],
});

describe('hardware-driven drain on a simulated cluster', () => {
  const regions: TestRegion[] = [];
  after(async () => {
    for (const r of regions) await r.stop();
  });
  const region = async (kube: FakeKube) => {
    const r = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: kube });
    regions.push(r);
    return r;
  };

  it('drains the worker once when its reallocated sectors rise, with the reason on both timelines; a restarted watch repeats nothing', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'hw', '10.41', 'drain');
    const node2 = ids.get('node2')!;
    const t0 = Date.now() - 60_000;
    await reportDisk(r, node2, 8, t0);
    assert.deepEqual(await r.region.hardwareWatch.pass(), [], 'a first report with counts is no rise');
    assert.equal(kube.cordoned.has('node2'), false);

    await reportDisk(r, node2, 24, t0 + 1000);
    kube.podsOn.set('node2', ['shop/web-1']);
    const [o] = await r.region.hardwareWatch.pass();
    assert.deepEqual(
      { node: o.node, action: o.action, reason: o.reason, error: o.error },
      { node: 'node2', action: 'drain', reason: RISE, error: null },
    );
    assert.ok(o.operation, 'a drain operation started');
    const op = await operationEnded(r, 'hw', o.operation);
    assert.deepEqual(
      [op.kind, op.state, op.actor, op.params.reason],
      ['drain', 'succeeded', 'hardware-watch', RISE],
    );
    assert.ok(kube.cordoned.has('node2'), 'drained (cordoned) through the cluster port');
    assert.equal(kube.cordoned.has('node1'), false);

    const onCluster = (
      await r.api<{ type: string; data: { node?: string } }[]>('GET', '/api/v1/clusters/hw/events?limit=500')
    ).body
      .filter((e) => e.data.node === 'node2')
      .map((e) => e.type);
    assert.deepEqual(onCluster, [
      HARDWARE_RISK_EVENT,
      'cluster.node.drain',
      'cluster.node.drained',
      HARDWARE_RISK_EVENT,
    ]);
    const onMachine = await eventsOf(r, `machines/${node2}`, HARDWARE_RISK_EVENT);
    assert.equal(onMachine.length, 2);
    assert.ok(
      onMachine[0].message.startsWith(`node2's hardware is at risk (${RISE}): draining it`),
      onMachine[0].message,
    );
    assert.match(onMachine[1].message, /drained, 1 pod\(s\) evicted; replace the part/);
    assert.equal(onMachine[1].data.reason, RISE);
    assert.equal(onMachine[1].data.operation, o.operation);

    // Once per episode: the same reports again change nothing, nor does a watch started afresh
    // (a region restart), which reads the episode back from the timeline.
    kube.cordoned.delete('node2');
    assert.deepEqual(await r.region.hardwareWatch.pass(), []);
    assert.deepEqual(await new HardwareWatch({ store: r.region.store, kube }).pass(), []);
    assert.equal(kube.cordoned.has('node2'), false);
  });

  it('acts by itself after each health poll round (the region wires the watch to the poller)', async () => {
    const kube = new FakeKube();
    const r = await startTestRegion({
      clusterLimits: { pollMs: 20 },
      simulatedKube: kube,
      healthPollMs: 300,
    });
    regions.push(r);
    const { ids } = await runningCluster(r, 'hr', '10.48', 'cordon');
    await reportDisk(r, ids.get('node2')!, 8, Date.now() - 2000);
    await reportDisk(r, ids.get('node2')!, 24, Date.now() - 1000);
    await eventually(async () => kube.cordoned.has('node2'), 15_000, 'node2 cordoned by the poller round');
    const [ev] = await eventsOf(r, 'clusters/hr', HARDWARE_RISK_EVENT);
    assert.equal(ev.data.action, 'cordon');
    assert.equal(ev.data.reason, RISE);
  });

  it('drains a node whose BMC reports a critical sensor, naming the sensor and its value', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'hs', '10.42', 'drain');
    assert.ok(await r.region.store.recordHealthSample(hot(ids.get('node1')!, Date.now())));
    const [o] = await r.region.hardwareWatch.pass();
    assert.equal(o.node, 'node1');
    assert.equal(o.reason, 'sensor CPU1 Temp critical (97 °C)');
    assert.equal((await operationEnded(r, 'hs', o.operation!)).state, 'succeeded');
    assert.ok(kube.cordoned.has('node1'));
  });

  it('names the PodDisruptionBudget when it holds the drain, and leaves the node cordoned', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'hp', '10.43', 'drain', 2);
    kube.blockedByPdb.set('node2', 'shop/checkout');
    await reportDisk(r, ids.get('node2')!, 8, Date.now() - 2000);
    await reportDisk(r, ids.get('node2')!, 24, Date.now() - 1000);
    const [o] = await r.region.hardwareWatch.pass();
    assert.equal(o.error, null);
    const op = await operationEnded(r, 'hp', o.operation!);
    assert.equal(op.state, 'failed');
    assert.match(op.reason, /blocked by PDB shop\/checkout .*after 2 s \(the timeout\)/);
    assert.ok(kube.cordoned.has('node2'));
    const failed = await eventsOf(r, 'clusters/hp', 'cluster.node.drain-failed');
    assert.equal(failed[0]?.data.pdb, 'shop/checkout');
    const [, last] = await eventsOf(r, `machines/${ids.get('node2')}`, HARDWARE_RISK_EVENT);
    assert.equal(last.level, 'error');
    assert.match(last.message, /drain stopped, the node stays cordoned: .*blocked by PDB shop\/checkout/);
  });

  it('with policy alert only tells the timeline; with cordon cordons without evicting, and not twice', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'ha', '10.44', 'alert');
    await reportDisk(r, ids.get('node2')!, 8, Date.now() - 2000);
    await reportDisk(r, ids.get('node2')!, 24, Date.now() - 1000);
    const [o] = await r.region.hardwareWatch.pass();
    assert.equal(o.action, 'alert');
    assert.equal(kube.cordoned.has('node2'), false);
    const [ev] = await eventsOf(r, 'clusters/ha', HARDWARE_RISK_EVENT);
    assert.match(ev.message, /policy alert \(spec.hardware.onRisk\): the node is left as it is/);
    assert.deepEqual(await eventsOf(r, 'clusters/ha', 'cluster.node.drain'), []);

    const kube2 = new FakeKube();
    const r2 = await region(kube2);
    const c = await runningCluster(r2, 'hc', '10.45', 'cordon');
    const node2 = c.ids.get('node2')!;
    await reportDisk(r2, node2, 8, Date.now() - 3000);
    await reportDisk(r2, node2, 24, Date.now() - 2000);
    assert.equal((await r2.region.hardwareWatch.pass())[0].action, 'cordon');
    assert.ok(kube2.cordoned.has('node2'));
    assert.deepEqual(await eventsOf(r2, 'clusters/hc', 'cluster.node.drain'), [], 'no eviction');
    // A new episode (the count rises again) on a node still cordoned: told, not cordoned again.
    await reportDisk(r2, node2, 40, Date.now() - 1000);
    const [again] = await r2.region.hardwareWatch.pass();
    assert.equal(again.action, 'alert');
    const last = (await eventsOf(r2, 'clusters/hc', HARDWARE_RISK_EVENT)).at(-1)!;
    assert.match(last.message, /reallocated sectors 24 → 40\): the node is already cordoned/);
  });

  it('while another operation holds the cluster: cordons now, says so, and starts the drain once it ended (a watch started afresh too)', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'hd', '10.49', 'drain');
    const node2 = ids.get('node2')!;
    // An operator's drain of node1, held by a PDB, holds the cluster.
    kube.blockedByPdb.set('node1', 'shop/db');
    const held = await r.api<{ operation: string }>('POST', '/api/v1/clusters/hd/nodes/node1/drain', {
      timeoutSeconds: 60,
    });
    assert.equal(held.status, 202);
    await reportDisk(r, node2, 8, Date.now() - 2000);
    await reportDisk(r, node2, 24, Date.now() - 1000);
    const [o] = await r.region.hardwareWatch.pass();
    assert.deepEqual(
      { node: o?.node, action: o?.action, operation: o?.operation, deferred: o?.deferred, error: o?.error },
      { node: 'node2', action: 'drain', operation: null, deferred: true, error: null },
    );
    assert.ok(kube.cordoned.has('node2'), 'cordoned now');
    const [put] = await eventsOf(r, `machines/${node2}`, HARDWARE_RISK_EVENT);
    assert.match(
      put.message,
      new RegExp(
        `cordoned now; the drain starts on a later pass: cluster hd already runs operation ${held.body.operation} \\(drain, running\\)`,
      ),
    );
    assert.deepEqual(await r.region.hardwareWatch.pass(), [], 'still held: nothing yet');

    // The region restarts (a watch afresh reads the put-off drain back from the timeline) and
    // the operation holding the cluster ends.
    const fresh = new HardwareWatch({ store: r.region.store, kube });
    assert.deepEqual(await fresh.pass(), []);
    kube.blockedByPdb.delete('node1');
    assert.equal((await operationEnded(r, 'hd', held.body.operation)).state, 'succeeded');
    await eventually(
      async () =>
        (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/hd')).body.cluster.state ===
        'running',
      10_000,
      'the cluster free again',
    );
    const [started] = await fresh.pass();
    assert.equal(started?.node, 'node2');
    assert.ok(started.operation);
    assert.equal((await operationEnded(r, 'hd', started.operation)).state, 'succeeded');
    assert.deepEqual(await fresh.pass(), [], 'once: the drain is not started again');
    // The region's own watch (as another region on the same store) put the same drain off: it
    // sees the drain started for the episode and starts none.
    await eventually(
      async () =>
        (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/hd')).body.cluster.state ===
        'running',
      10_000,
      'the cluster free again',
    );
    assert.deepEqual(await r.region.hardwareWatch.pass(), []);
    const drains = (await r.api<{ kind: string }[]>('GET', '/api/v1/clusters/hd/operations')).body.filter(
      (x) => x.kind === 'drain',
    );
    assert.equal(drains.length, 2, "the operator's and one hardware drain");
    const onMachine = await eventsOf(r, `machines/${node2}`, HARDWARE_RISK_EVENT);
    assert.equal(onMachine.length, 3, onMachine.map((e) => e.message).join('\n'));
    assert.match(onMachine[0].message, /: cordoned now; the drain starts on a later pass/);
    assert.match(onMachine[1].message, /: draining it now \(spec.hardware.onRisk: drain\)/);
    assert.match(onMachine[2].message, /: drained, 0 pod\(s\) evicted; replace the part/);
    assert.equal(onMachine[2].data.operation, started.operation);
  });
});
