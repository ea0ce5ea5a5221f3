/**
 * Day 2 against real Kubernetes 1.20.2 on the 1+1 test bed (docs/day2.md): a drain held by a
 * PodDisruptionBudget and let through when it is relaxed; a worker killed through the region's
 * BMC power action, fenced, its Node deleted, its pod rescheduled on the control plane and the
 * worker powered on again Ready; an etcd snapshot taken, the cluster's data changed, and the
 * snapshot restored (the earlier ConfigMap back, the later one gone).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AppsV1Api,
  type CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import '../src/bmc/index.ts';
import { createBmcDriver } from '../src/bmc/registry.ts';
import { isIngotError } from '../src/core/errors.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { type RemediationEvent, Remediator } from '../src/engine/cluster/remediate.ts';
import { KubeClient } from '../src/kube/client.ts';
import { drainNode, uncordon } from '../src/kube/drain.ts';
import { listSnapshots, readSnapshot, snapshotDir } from '../src/kube/etcd/snapshot.ts';
import type { ApiAccess } from '../src/lab/testbed/api.ts';
import type { BedState } from '../src/lab/testbed/bed.ts';
import { cgroupPids } from '../src/lab/testbed/node.ts';
import { bedBmc } from '../src/lab/testbed/power.ts';
import { bedShell } from '../src/lab/testbed/shell.ts';
import { hostSysctls } from '../src/lab/testbed/sysctls.ts';
import { createPdb, PDB_API } from './support/workloads.ts';
import { restoreDrill, waitOnNode, webBackOnWorker, webOnWorker, webPods } from './support/day2.ts';
import { skipUnless } from './support/needs.ts';
import { startTestRegion } from './support/region.ts';
import {
  BED_NEEDS,
  bedKubeConfig,
  bedName,
  enrolBed,
  eventually,
  importHttpd,
  reapStaleBeds,
  startBed,
  stopBed,
  waitFor,
} from './support/testbed.ts';

const NEEDS = { ...BED_NEEDS, programs: [...BED_NEEDS.programs, 'etcdctl'] };

before(() => reapStaleBeds('dd'));

describe('day 2 on the 1+1 test bed', { skip: skipUnless(NEEDS), timeout: 20 * 60_000 }, () => {
  const name = bedName('dd');
  let root = '';
  let bed: BedState;
  let api: ApiAccess;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let kc: KubeConfig;
  const sysctlsBefore = hostSysctls().values;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-day2-'));
    ({ bed, api, core, apps } = await startBed(name, '1+1', root));
    kc = bedKubeConfig(api);
    await importHttpd(bed, ['node1', 'node2']);
    await webOnWorker(core, apps);
  });

  after(() => stopBed(name, root, bed, api, sysctlsBefore));

  const pdbs = () => kc.makeApiClient(CustomObjectsApi);

  it('drains through the Eviction API: held by a PodDisruptionBudget (named in the error), let through when it is relaxed', async () => {
    await createPdb(kc, { name: 'web', minAvailable: 1 });
    // The disruption controller must have counted the healthy pod before the PDB answers.
    await waitFor(
      async () =>
        (
          (await pdbs().getNamespacedCustomObject({ ...PDB_API, name: 'web' })) as {
            status?: { currentHealthy?: number };
          }
        ).status?.currentHealthy === 1,
      60_000,
      'the PDB counting the pod',
    );
    const [before] = await webPods(core);
    const reasons: string[] = [];
    await assert.rejects(
      drainNode(kc, 'node2', { timeoutMs: 8000, retryMs: 1000, onBlocked: (_p, r) => reasons.push(r) }),
      (e) =>
        isIngotError(e, 'INGOT_DRAIN_BLOCKED') &&
        e.details.pdb === 'default/web' &&
        e.details.pod === `default/${before.name}` &&
        /pod default\/web-\S+ blocked by PDB default\/web for 8 s: relax the PodDisruptionBudget default\/web/.test(
          e.message,
        ),
    );
    assert.ok(reasons.length >= 2, `retried: ${reasons}`);
    assert.ok(reasons.every((r) => r === 'blocked by PDB default/web'));
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable, true, 'node2 stays cordoned');
    assert.deepEqual(await webPods(core), [before], 'the pod was not evicted');

    await pdbs().patchNamespacedCustomObject(
      { ...PDB_API, name: 'web', body: { spec: { minAvailable: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // This time through the region's KubePort (the admin kubeconfig as text, as the region keeps it).
    const r = await eventually(
      () => new KubeClient().drainNode(kc.exportConfig(), 'node2', { timeoutMs: 60_000, force: false }),
      60_000,
    );
    assert.deepEqual(r.evicted, [`default/${before.name}`]);
    assert.ok(
      r.kept.some((k) => k.startsWith('kube-system/kube-proxy-')),
      `kube-proxy (DaemonSet) stays: ${r.kept}`,
    );
    await waitOnNode(core, 'node1', 60_000);
    await uncordon(kc, 'node2');
    assert.equal((await core.readNode({ name: 'node2' })).spec?.unschedulable ?? false, false);
    await pdbs().deleteNamespacedCustomObject({ ...PDB_API, name: 'web' });
  });

  it('remediates a worker killed through the region: fenced through the BMC before its Node is deleted, its pod runs on the control plane, powered on it is Ready again', async () => {
    // The pod back on the worker (it prefers node2, now schedulable again).
    await webBackOnWorker(core);
    await core.patchNode(
      { name: 'node2', body: { metadata: { labels: { 'ingot.test/pool': 'blue' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    const creds = { username: 'admin', password: 'bed-bmc-pass' };
    const bmc = await bedBmc(bed, root, creds);
    const region = await startTestRegion({ agent: new FakeAgent() });
    try {
      const ids = await enrolBed(region, bmc, creds);
      const address = new Map(bmc.machines.map((m) => [ids.get(m.node)!, m.address]));
      const events: RemediationEvent[] = [];
      const drivers = { opened: 0, closed: 0 };
      const remediator = new Remediator(
        {
          kube: kc,
          bmc: (id) => {
            const d = createBmcDriver({ address: address.get(id)!, ...creds });
            drivers.opened++;
            const close = d.close.bind(d);
            d.close = () => {
              drivers.closed++;
              return close();
            };
            return d;
          },
          event: (e) => {
            events.push(e);
            process.stderr.write(`remediation ${e.at} ${e.node} ${e.step}: ${e.message}\n`);
          },
        },
        { policy: { unhealthyAfterSeconds: 5, maxUnhealthy: 1 }, readyTimeoutMs: 180_000 },
      );
      const members = [
        { node: 'node1', machineId: ids.get('node1')!, role: 'control-plane' as const, domain: 'bed/r1' },
        { node: 'node2', machineId: ids.get('node2')!, role: 'worker' as const, domain: 'bed/r1' },
      ];
      // Nothing to do while every node is healthy.
      assert.deepEqual((await remediator.pass(members)).plan.start, []);

      const worker = bed.nodes.find((n) => n.name === 'node2')!;
      const killedAt = Date.now();
      const off = await region.api('POST', `/api/v1/machines/${ids.get('node2')}/actions/power-off`, {});
      assert.equal(off.status, 202);
      await waitFor(async () => cgroupPids(worker.ns).length === 0, 30_000, 'node2 dead');

      // When the pod runs on the control plane, while the remediation goes on.
      let movedAt = 0;
      const watching = (async () => {
        while (!movedAt && Date.now() - killedAt < 400_000) {
          if ((await webPods(core).catch(() => [])).some((p) => p.node === 'node1' && p.ready))
            movedAt = Date.now();
          else await new Promise((r) => setTimeout(r, 500));
        }
      })();
      // The guard first: with maxUnhealthy 0, one dead node of two is already too many.
      const guarded = new Remediator(remediator.ports, {
        policy: { unhealthyAfterSeconds: 5, maxUnhealthy: 0 },
      });
      let halted: Awaited<ReturnType<Remediator['pass']>> | null = null;
      await waitFor(
        async () => {
          halted = await guarded.pass(members);
          return halted.plan.halted !== null;
        },
        180_000,
        'the guard to see node2 unhealthy',
      );
      assert.match(
        halted!.plan.halted!,
        /1 of 2 nodes are unhealthy, more than maxUnhealthy 0 \(0\): likely a partition/,
      );
      assert.deepEqual(halted!.results, []);
      assert.equal(
        (await core.readNode({ name: 'node2' })).metadata?.name,
        'node2',
        'the guard deleted nothing',
      );
      assert.ok(!events.some((e) => e.step === 'fence'), 'the guard fenced nothing');

      let result: Awaited<ReturnType<Remediator['pass']>> | null = null;
      await waitFor(
        async () => {
          result = await remediator.pass(members);
          return result.results.length > 0;
        },
        180_000,
        'the remediator to act on node2',
      );
      await watching;
      const r = result!.results[0];
      assert.equal(r.node, 'node2');
      assert.equal(r.outcome, 'recovered', r.reason);
      assert.deepEqual(
        r.done.map((d) => [d.step, d.ok]),
        [
          ['fence', true],
          ['delete-node', true],
          ['power-on', true],
        ],
      );
      const at = (step: string, text: string) =>
        events.findIndex((e) => e.step === step && e.message.includes(text));
      assert.ok(at('fence', 'done (the BMC reports power Off)') >= 0);
      assert.ok(at('fence', 'done') < at('delete-node', 'starting'), 'fenced before the Node is deleted');
      assert.match(
        events[at('delete-node', 'done')].message,
        /Node deleted with \d pod\(s\): .*default\/web-/,
      );
      assert.ok(movedAt > 0, 'the pod ran on the control plane');
      process.stderr.write(
        `day2: worker killed → its pod Ready on the control plane in ${((movedAt - killedAt) / 1000).toFixed(1)} s\n`,
      );

      const n2 = await core.readNode({ name: 'node2' });
      assert.ok(
        n2.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        'node2 Ready again',
      );
      assert.equal(n2.metadata?.labels?.['ingot.test/pool'], 'blue', 'its label put back');
      assert.equal(bmc.targets.get('node1')?.boots.length, 0, 'the control plane was never touched');
      assert.ok(drivers.opened > 0);
      assert.equal(drivers.closed, drivers.opened, 'every BMC driver the remediator opened is closed');
      assert.equal(bmc.targets.get('node2')?.boots.length, 1);
    } finally {
      await region.stop();
      await bmc.emulator.close();
    }
  });

  it('snapshots etcd into the artifact store and restores it: the earlier ConfigMap is back, the later one gone', async () => {
    const artifacts = join(root, 'artifacts');
    const shell = bedShell(root, name);
    const seconds = await restoreDrill(core, shell, {
      artifacts,
      cluster: 'bed',
      snapshotOn: 'node1',
      controlPlanes: ['node1'],
      afterSnapshot: (rec) => {
        assert.deepEqual(
          listSnapshots(artifacts, 'bed').map((s) => s.id),
          [rec.id],
        );
        assert.ok(rec.revision > 0 && rec.totalKeys > 0 && rec.bytes > 0);
        assert.equal(readSnapshot(artifacts, 'bed', rec.id).data.length, rec.bytes);
        // A damaged copy is refused before anything is touched.
        const file = join(snapshotDir(artifacts, 'bed'), `${rec.id}.db`);
        const good = readFileSync(file);
        const bad = Buffer.from(good);
        bad[bad.length >> 1] ^= 0xff;
        writeFileSync(file, bad);
        assert.throws(
          () => readSnapshot(artifacts, 'bed', rec.id),
          (e) => isIngotError(e, 'INGOT_CONFLICT') && /does not match its checksum/.test(e.message),
        );
        writeFileSync(file, good);
      },
    });
    process.stderr.write(`day2: restore to API answering in ${seconds.toFixed(1)} s\n`);
  });
});
