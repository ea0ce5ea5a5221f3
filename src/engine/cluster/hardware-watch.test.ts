/**
 * The hardware watch's second look at an episode (hardware-retry.ts, docs/day2.md) in a region
 * with a simulated two-node cluster (real store, the drain a real `drain` operation, the
 * cluster's Kubernetes the FakeKube): a failed drain or cordon tried again after a growing
 * wait, up to `drainAttempts`, then given up naming `ingot cluster drain`; a Node gone not
 * tried again; a watch started afresh (a region restart) goes on with the count read back from
 * the timeline; and, with `uncordonWhenHealthy`, only a node the watch cordoned is uncordoned
 * once the hardware gives no reason any more. The watches here run on a clock the test moves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clusterFree,
  eventsOf,
  operationEnded,
  reportDisk,
  runningCluster,
  suiteRegions,
} from '../../../test/support/hardware-drain.ts';
import type { TestRegion } from '../../../test/support/region.ts';
import { HARDWARE_RISK_EVENT } from '../../core/hardware-drain.ts';
import { FakeKube } from '../../kube/fake.ts';
import { HardwareWatch } from './hardware-watch.ts';

/** A watch whose clock runs `skew.ms` ahead of the wall clock (the backoff waits pass at once). */
const watchOn = (r: TestRegion, kube: FakeKube, skew: { ms: number }) =>
  new HardwareWatch({ store: r.region.store, kube, now: () => Date.now() + skew.ms });

const drainsOf = async (r: TestRegion, cluster: string) =>
  (await r.api<{ kind: string; id: string }[]>('GET', `/api/v1/clusters/${cluster}/operations`)).body.filter(
    (x) => x.kind === 'drain',
  );

describe('hardware watch: a failed try again, bounded; the node given back once healthy', () => {
  const region = suiteRegions();
  /** A rising count on `machineId`'s disk: a new episode. */
  const rise = async (r: TestRegion, machineId: string, from = 8, to = 24) => {
    await reportDisk(r, machineId, from, Date.now() - 2000);
    await reportDisk(r, machineId, to, Date.now() - 1000);
  };

  it('drains again after a PDB stopped it, waiting retryAfterSeconds then twice that, and gives up after drainAttempts; a restarted watch keeps the count', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(
      r,
      'rt',
      '10.61',
      'drain',
      1,
      'drainAttempts: 3, retryAfterSeconds: 60',
    );
    const node2 = ids.get('node2')!;
    kube.blockedByPdb.set('node2', 'shop/checkout');
    const skew = { ms: 0 };
    const w = watchOn(r, kube, skew);
    await rise(r, node2);
    const [first] = await w.pass();
    assert.equal((await operationEnded(r, 'rt', first.operation!)).state, 'failed');
    await clusterFree(r, 'rt');
    assert.deepEqual(await w.pass(), [], 'the wait after the first failure is not over');

    skew.ms = 61_000;
    const [second] = await w.pass();
    assert.equal(second?.attempt, 2);
    assert.ok(second.operation, 'a second drain operation');
    assert.notEqual(second.operation, first.operation);
    assert.equal((await operationEnded(r, 'rt', second.operation)).state, 'failed');
    await clusterFree(r, 'rt');

    // The region restarts: the watch afresh reads two tries back, and waits twice as long.
    const fresh = watchOn(r, kube, skew);
    skew.ms = 100_000;
    assert.deepEqual(await fresh.pass(), [], 'the second wait is 120 s: not over after 100 s');
    skew.ms = 121_000;
    const [third] = await fresh.pass();
    assert.equal(third?.attempt, 3, 'the count read back from the timeline, not started from 1');
    assert.deepEqual(await w.pass(), [], 'the first watch (another region) does not start it twice');
    assert.equal((await operationEnded(r, 'rt', third.operation!)).state, 'failed');
    await clusterFree(r, 'rt');

    skew.ms += 3_600_000;
    const [gave] = await fresh.pass();
    assert.equal(gave?.gaveUp, true);
    assert.deepEqual(await fresh.pass(), [], 'given up once');
    assert.deepEqual(await watchOn(r, kube, skew).pass(), [], 'nor again after a restart');
    assert.equal((await drainsOf(r, 'rt')).length, 3, 'three drains: drainAttempts');
    const told = await eventsOf(r, `machines/${node2}`, HARDWARE_RISK_EVENT);
    const tries = told.filter((e) => /draining it/.test(e.message));
    assert.deepEqual(
      tries.map((e) => e.data.attempt),
      [1, 2, 3],
    );
    assert.match(
      tries[1].message,
      /draining it again \(try 2 of 3; the last failed: drain stopped, .*shop\/checkout/,
    );
    const last = told.at(-1)!;
    assert.equal(last.level, 'error');
    assert.match(last.message, /gave up: 3 drain tries this episode failed, the last: drain stopped/);
    assert.match(last.message, /`ingot cluster drain rt node2`/);
    assert.ok(kube.cordoned.has('node2'), 'left cordoned');
  });

  it('does not try a drain again for a Node gone from the API: gives up at once, saying so', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'rg', '10.62', 'drain', 1, 'retryAfterSeconds: 5');
    kube.blockedByPdb.set('node2', 'shop/checkout');
    const skew = { ms: 0 };
    const w = watchOn(r, kube, skew);
    await rise(r, ids.get('node2')!);
    const [first] = await w.pass();
    assert.equal((await operationEnded(r, 'rg', first.operation!)).state, 'failed');
    await clusterFree(r, 'rg');
    for (const nodes of kube.nodes.values()) nodes.delete('node2'); // kubectl delete node node2
    skew.ms = 10_000;
    const [o] = await w.pass();
    assert.deepEqual({ gaveUp: o?.gaveUp, operation: o?.operation }, { gaveUp: true, operation: null });
    assert.match(o.error!, /the Node node2 is gone from the cluster's API: not tried again/);
    assert.equal((await drainsOf(r, 'rg')).length, 1);
    skew.ms = 3_600_000;
    assert.deepEqual(await w.pass(), []);
    assert.equal((await drainsOf(r, 'rg')).length, 1);
  });

  it('cordons again after a cordon failed (the API refused it), once the wait is over', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'rc', '10.63', 'cordon', undefined, 'retryAfterSeconds: 30');
    const skew = { ms: 0 };
    const w = watchOn(r, kube, skew);
    await rise(r, ids.get('node2')!);
    const cordon = kube.cordon.bind(kube);
    kube.cordon = async () => {
      throw new Error('nodes "node2" is forbidden: the API refused the patch (test)');
    };
    const [o] = await w.pass();
    assert.match(o.error!, /forbidden/);
    kube.cordon = cordon;
    assert.deepEqual(await w.pass(), [], 'the wait is not over');
    assert.equal(kube.cordoned.has('node2'), false);
    skew.ms = 31_000;
    const [again] = await w.pass();
    assert.deepEqual({ attempt: again?.attempt, error: again?.error }, { attempt: 2, error: null });
    assert.ok(kube.cordoned.has('node2'));
    assert.deepEqual(await w.pass(), [], 'cordoned: nothing more');
  });

  it('with uncordonWhenHealthy uncordons the node it drained once the disk is steady again, once, also after a restart', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const { ids } = await runningCluster(r, 'ru', '10.64', 'drain', undefined, 'uncordonWhenHealthy: true');
    const node2 = ids.get('node2')!;
    await rise(r, node2);
    const [o] = await r.region.hardwareWatch.pass();
    assert.equal((await operationEnded(r, 'ru', o.operation!)).state, 'succeeded');
    await clusterFree(r, 'ru');
    assert.ok(kube.cordoned.has('node2'));
    assert.deepEqual(await r.region.hardwareWatch.pass(), [], 'still at risk: stays cordoned');
    assert.ok(kube.cordoned.has('node2'));

    await reportDisk(r, node2, 24, Date.now()); // the count steady: no reason any more
    const [back] = await r.region.hardwareWatch.pass();
    assert.deepEqual({ action: back?.action, error: back?.error }, { action: 'uncordon', error: null });
    assert.equal(kube.cordoned.has('node2'), false, 'schedulable again');
    const last = (await eventsOf(r, `machines/${node2}`, HARDWARE_RISK_EVENT)).at(-1)!;
    assert.match(last.message, /gives no reason any more .*: uncordoned, schedulable again/);
    assert.equal(last.data.uncordoned, true);
    kube.cordoned.add('node2'); // cordoned by hand afterwards: not Ingot's any more
    assert.deepEqual(await r.region.hardwareWatch.pass(), []);
    assert.deepEqual(await new HardwareWatch({ store: r.region.store, kube }).pass(), []);
    assert.ok(kube.cordoned.has('node2'));
  });

  it('never uncordons without uncordonWhenHealthy, a node cordoned before the episode, nor one an operator drained since', async () => {
    const kube = new FakeKube();
    const r = await region(kube);
    const off = await runningCluster(r, 'rn', '10.65', 'cordon');
    await rise(r, off.ids.get('node2')!);
    assert.equal((await r.region.hardwareWatch.pass())[0].action, 'cordon');
    await reportDisk(r, off.ids.get('node2')!, 24, Date.now());
    assert.deepEqual(await r.region.hardwareWatch.pass(), []);
    assert.ok(kube.cordoned.has('node2'), 'not opted in: stays cordoned');

    const kube2 = new FakeKube();
    const r2 = await region(kube2);
    const { ids } = await runningCluster(r2, 'ro', '10.66', 'cordon', undefined, 'uncordonWhenHealthy: true');
    const [node1, node2] = [ids.get('node1')!, ids.get('node2')!];
    // node1 cordoned by an operator before its episode; node2 cordoned by the watch, then
    // drained by an operator.
    kube2.cordoned.add('node1');
    await rise(r2, node1);
    await rise(r2, node2);
    const acted = await r2.region.hardwareWatch.pass();
    assert.deepEqual(acted.map((x) => [x.node, x.action]).sort(), [
      ['node1', 'alert'],
      ['node2', 'cordon'],
    ]);
    const drain = await r2.api<{ operation: string }>('POST', '/api/v1/clusters/ro/nodes/node2/drain', {});
    assert.equal((await operationEnded(r2, 'ro', drain.body.operation)).state, 'succeeded');
    await clusterFree(r2, 'ro');
    await reportDisk(r2, node1, 24, Date.now());
    await reportDisk(r2, node2, 24, Date.now());
    assert.deepEqual(await r2.region.hardwareWatch.pass(), []);
    assert.ok(kube2.cordoned.has('node1'), "the operator's cordon stays");
    assert.ok(kube2.cordoned.has('node2'), "the operator's drain stays");
    const last = (await eventsOf(r2, `machines/${node2}`, HARDWARE_RISK_EVENT)).at(-1)!;
    assert.match(last.message, /left as it is, .* acted on it since \(drain of node2 started by /);
    assert.deepEqual(await new HardwareWatch({ store: r2.region.store, kube: kube2 }).pass(), []);
    assert.ok(kube2.cordoned.has('node2'));
  });
});
