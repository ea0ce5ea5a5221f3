/**
 * Hardware-driven drain against real Kubernetes 1.20.2 on the 1+1 test bed (docs/day2.md): the
 * bed registered as a running cluster in two regions (its admin kubeconfig as the cluster's),
 * one with `spec.hardware.onRisk: alert`, one with `drain`; the worker's disk reports rising
 * reallocated sectors through the store as a real report would. With `alert` the Node is left
 * schedulable and the reason is on the timeline; with `drain` the watch starts a `drain`
 * operation (actor `hardware-watch`) which cordons the worker and evicts the `web` pod through the
 * Eviction API to the control plane, the reason on the cluster's and the machine's timelines.
 * Between the two, a drain operation asked through the API under a PodDisruptionBudget
 * `minAvailable: 1`: `blocked by PDB default/web` on the node while it runs, then failed at its
 * 15-s timeout naming the PDB, node2 left cordoned, the pod untouched, the cluster running.
 * Last, with `uncordonWhenHealthy: true` on the drain's cluster, the disk reported steady again
 * (the episode over): the watch uncordons node2, read back from the API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AppsV1Api,
  type CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { HardwarePolicy } from '../src/core/hardware-drain.ts';
import { HARDWARE_RISK_EVENT } from '../src/engine/cluster/hardware-watch.ts';
import type { ApiAccess } from '../src/lab/testbed/api.ts';
import type { BedState } from '../src/lab/testbed/bed.ts';
import { hostSysctls } from '../src/lab/testbed/sysctls.ts';
import { waitOnNode, webOnWorker, webPods } from './support/day2.ts';
import { eventsOf, operationEnded, reportDisk, runningCluster, SERIAL } from './support/hardware-drain.ts';
import { skipUnless } from './support/needs.ts';
import { createPdb, PDB_API } from './support/workloads.ts';
import { startTestRegion, type TestRegion } from './support/region.ts';
import {
  BED_NEEDS,
  bedKubeConfig,
  bedName,
  importHttpd,
  reapStaleBeds,
  startBed,
  stopBed,
  waitFor,
} from './support/testbed.ts';

before(() => reapStaleBeds('hd'));

const RISE = `disk sdb (serial ${SERIAL}): reallocated sectors 8 → 24`;

describe('hardware-driven drain on the 1+1 test bed', {
  skip: skipUnless(BED_NEEDS),
  timeout: 8 * 60_000,
}, () => {
  const name = bedName('hd');
  let root = '';
  let bed: BedState;
  let api: ApiAccess;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const regions: TestRegion[] = [];
  const sysctlsBefore = hostSysctls().values;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-hwdrain-'));
    ({ bed, api, core, apps } = await startBed(name, '1+1', root));
    await importHttpd(bed, ['node1', 'node2']);
    await webOnWorker(core, apps);
  });

  after(async () => {
    for (const r of regions) await r.stop().catch(() => undefined);
    await stopBed(name, root, bed, api, sysctlsBefore);
  });

  /** A region whose running cluster `hd` is the bed, with the worker's disk reported twice: 8 then 24. */
  const regionWith = async (policy: HardwarePolicy, net: string, more?: string) => {
    const r = await startTestRegion({ clusterLimits: { pollMs: 200 } });
    regions.push(r);
    const { id, ids } = await runningCluster(r, 'hd', net, policy, undefined, more);
    await r.region.store.setClusterKubeconfig(id, bedKubeConfig(api).exportConfig());
    await reportDisk(r, ids.get('node2')!, 8, Date.now() - 3_600_000);
    await reportDisk(r, ids.get('node2')!, 24, Date.now());
    return { r, ids };
  };

  it('with policy alert: the reason on the timeline, the worker left schedulable and its pod where it was', async () => {
    const [before] = await webPods(core);
    assert.equal(before.node, 'node2');
    const { r, ids } = await regionWith('alert', '10.46');
    const [o] = await r.region.hardwareWatch.pass();
    assert.deepEqual([o.node, o.action, o.reason], ['node2', 'alert', RISE]);
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable ?? false, false);
    assert.deepEqual(await webPods(core), [before]);
    const [ev] = await eventsOf(r, `machines/${ids.get('node2')}`, HARDWARE_RISK_EVENT);
    assert.equal(ev.data.reason, RISE);
  });

  it('a drain operation a PodDisruptionBudget holds: the node says so while it runs, then failed at the timeout naming the PDB, the node cordoned, the cluster running', async () => {
    const kc = bedKubeConfig(api);
    const pdbs = kc.makeApiClient(CustomObjectsApi);
    await createPdb(kc, { name: 'web', minAvailable: 1 });
    try {
      await waitFor(
        async () =>
          (
            (await pdbs.getNamespacedCustomObject({ ...PDB_API, name: 'web' })) as {
              status?: { currentHealthy?: number };
            }
          ).status?.currentHealthy === 1,
        60_000,
        'the PDB counting the pod',
      );
      const [before] = await webPods(core);
      assert.equal(before.node, 'node2');
      const { r } = await regionWith('alert', '10.50');
      const d = await r.api<{ operation: string }>('POST', '/api/v1/clusters/hd/nodes/node2/drain', {
        timeoutSeconds: 15,
      });
      assert.equal(d.status, 202, JSON.stringify(d.body));
      interface Op {
        state: string;
        reason: string;
        progress: { nodes: { message: string | null }[] };
      }
      const read = async () =>
        (await r.api<Op>('GET', `/api/v1/clusters/hd/operations/${d.body.operation}`)).body;
      const seen: string[] = [];
      let op = await read();
      while (op.state === 'running') {
        seen.push(op.progress.nodes[0].message ?? '');
        await new Promise((res) => setTimeout(res, 500));
        op = await read();
      }
      assert.ok(
        seen.some((m) => /^blocked by PDB default\/web \(pod default\/web-/.test(m)),
        `the node's message while running: ${[...new Set(seen)].join(' | ')}`,
      );
      assert.equal(op.state, 'failed');
      assert.match(
        op.reason,
        /drain of node2 failed: blocked by PDB default\/web \(pod default\/web-\S+\) after 15 s \(the timeout\): relax the PodDisruptionBudget default\/web/,
      );
      assert.equal(
        (await core.readNode({ name: 'node2' })).spec?.unschedulable,
        true,
        'node2 stays cordoned',
      );
      assert.deepEqual(await webPods(core), [before], 'the pod was not evicted');
      const c = await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/hd');
      assert.equal(c.body.cluster.state, 'running');
      assert.equal((await r.api('POST', '/api/v1/clusters/hd/nodes/node2/uncordon', {})).status, 200);
    } finally {
      await pdbs.deleteNamespacedCustomObject({ ...PDB_API, name: 'web' }).catch(() => undefined);
      await core
        .patchNode(
          { name: 'node2', body: { spec: { unschedulable: false } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(() => undefined);
    }
  });

  /** The drain case's region, whose cluster uncordons when healthy (the last case). */
  let drainedIn: { r: TestRegion; ids: Map<string, string> } | null = null;

  it('with policy drain: the worker cordoned and its pod evicted to the control plane, the reason on both timelines, once', async () => {
    const { r, ids } = await regionWith('drain', '10.47', 'uncordonWhenHealthy: true');
    drainedIn = { r, ids };
    // The pass returns once the drain operation is started; the operation drains.
    const [o] = await r.region.hardwareWatch.pass();
    assert.deepEqual([o.node, o.action, o.reason, o.error], ['node2', 'drain', RISE, null]);
    assert.ok(o.operation, 'a drain operation started');
    const op = await operationEnded(r, 'hd', o.operation, 240_000);
    assert.deepEqual([op.kind, op.state, op.actor], ['drain', 'succeeded', 'hardware-watch'], op.reason);
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable, true, 'node2 cordoned');
    assert.equal((await core.readNode({ name: 'node1' })).spec?.unschedulable ?? false, false);
    await waitOnNode(core, 'node1', 90_000);
    const drained = await eventsOf(r, 'clusters/hd', 'cluster.node.drained');
    assert.equal(drained.length, 1);
    assert.ok(
      (drained[0].data.evicted as string[]).some((p) => p.startsWith('default/web-')),
      `web evicted: ${drained[0].data.evicted}`,
    );
    const onMachine = await eventsOf(r, `machines/${ids.get('node2')}`, HARDWARE_RISK_EVENT);
    assert.deepEqual(
      onMachine.map((e) => e.data.reason),
      [RISE, RISE],
    );
    assert.match(onMachine[1].message, /drained, \d pod\(s\) evicted; replace the part/);
    // Once per episode: a second look does nothing more.
    assert.deepEqual(await r.region.hardwareWatch.pass(), []);
  });

  it('with uncordonWhenHealthy: once the disk reports steady counts, the watch uncordons the node it drained', async (t) => {
    if (!drainedIn) return t.skip('the drain case did not run');
    const { r, ids } = drainedIn;
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable, true);
    await reportDisk(r, ids.get('node2')!, 24, Date.now()); // the count steady: the episode over
    const [o] = await r.region.hardwareWatch.pass();
    assert.deepEqual([o?.node, o?.action, o?.error], ['node2', 'uncordon', null]);
    assert.equal(
      (await core.readNode({ name: 'node2' })).spec?.unschedulable ?? false,
      false,
      'node2 schedulable again (the real API)',
    );
    const last = (await eventsOf(r, `machines/${ids.get('node2')}`, HARDWARE_RISK_EVENT)).at(-1)!;
    assert.equal(last.data.uncordoned, true);
    assert.deepEqual(await r.region.hardwareWatch.pass(), [], 'once');
  });
});
