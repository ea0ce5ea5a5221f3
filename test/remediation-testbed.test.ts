/**
 * Remediation run by the region by itself on real Kubernetes 1.20.2: a 1+1 cluster created by
 * the region on a prepared test bed (test/support/cluster-bed.ts, as test/cluster-testbed.test.ts)
 * from a Cluster file with `spec.remediation` enabled. The worker is killed with the region's
 * power-off action through the virtual Redfish BMC; nobody calls the remediator: the engine's
 * remediation loop finds node2 NotReady past `unhealthyAfterSeconds`, fences it (the BMC reports
 * Off) before deleting its Node, powers it on, and node2 is Ready again — every rung on the
 * cluster's timeline with the node and the reason. The control plane is never powered.
 * (The bed has no spare machine: the replace rung is not exercised here, see docs/day2.md.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, reapStaleBeds, waitFor } from './support/testbed.ts';

const CLUSTER = 'heal';

describe('remediation by the region on the test bed: a worker powered off is fenced, its Node deleted, powered on, Ready again', {
  skip: skipUnless(BED_NEEDS),
  timeout: 30 * 60_000,
}, () => {
  const cb: ClusterBed = newClusterBed(bedName('rm'));

  before(async () => {
    await reapStaleBeds('rm');
    await startClusterBed(cb, {
      extra: () => ({
        remediationIntervalMs: 5000,
        remediation: { kubeconfig: (k) => cb.kube!.rewrite(k), readyTimeoutMs: 300_000 },
      }),
    });
  });
  after(async () => {
    await stopClusterBed(cb);
  });

  const timeline = async () =>
    (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`)).body;

  it('runs the ladder on its own after the power-off, each rung on the timeline', async () => {
    const res = await cb.r!.api('POST', '/api/v1/clusters', {
      cluster: bedClusterFile(CLUSTER, cb.bed!).concat(
        '  remediation: { enabled: true, unhealthyAfterSeconds: 30, maxUnhealthy: 1 }\n',
      ),
      image: NODE_IMAGE.name,
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const state = async () =>
      (
        await cb.r!.api<{ cluster: { state: string; stateReason: string } }>(
          'GET',
          `/api/v1/clusters/${CLUSTER}`,
        )
      ).body.cluster;
    await waitFor(
      async () => ['running', 'failed_creating'].includes((await state()).state),
      20 * 60_000,
      'the cluster to run',
    );
    assert.equal((await state()).state, 'running', (await state()).stateReason);
    // Healthy: the loop does nothing.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(
      (await timeline()).filter((e) => e.type === 'cluster.node.remediation'),
      [],
    );

    const worker = cb.ids.get('node2')!;
    const killedAt = Date.now();
    const off = await cb.r!.api('POST', `/api/v1/machines/${worker}/actions/power-off`, {});
    assert.equal(off.status, 202, JSON.stringify(off.body));
    const rungs = () =>
      timeline().then((ev) =>
        ev
          .filter((e) => e.type === 'cluster.node.remediation')
          .map((e) => e as TimelineEvent & { data: { node: string; step: string } }),
      );
    await waitFor(
      async () => (await rungs()).some((e) => /Ready again after|remediation halted/.test(e.message)),
      12 * 60_000,
      'the remediation to end',
    );
    const ev = await rungs();
    for (const e of ev) process.stderr.write(`remediation ${e.message}\n`);
    process.stderr.write(
      `remediation ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill\n`,
    );
    assert.ok(
      ev.every((e) => e.data.node === 'node2'),
      'only the worker was remediated',
    );
    const at = (re: RegExp) => ev.findIndex((e) => re.test(e.message));
    assert.ok(
      at(/node2: unhealthy: Node Ready=(Unknown|False) for \d+ s \(more than 30 s\); remediating/) >= 0,
    );
    const fenced = at(/node2: fence: done \(the BMC reports power Off\)/);
    const deleted = at(/node2: delete-node: done \(Node deleted/);
    assert.ok(fenced >= 0 && deleted > fenced, 'fenced (confirmed Off) strictly before the Node was deleted');
    assert.ok(
      at(/node2: node2 is Ready again after power-on/) > deleted,
      ev.map((e) => e.message).join('\n'),
    );

    const kc = new KubeConfig();
    const stored = await cb.r!.region.store.clusterKubeconfig(
      (await cb.r!.region.store.getCluster(CLUSTER)).id,
    );
    kc.loadFromString(cb.kube!.rewrite(stored!));
    const node2 = await kc.makeApiClient(CoreV1Api).readNode({ name: 'node2' });
    assert.ok(node2.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const cpPower = (await timeline()).filter(
      (e) => e.machineId === cb.ids.get('node1') && /power/i.test(e.type),
    );
    assert.deepEqual(cpPower, [], 'the control plane was never powered');
  });
});
