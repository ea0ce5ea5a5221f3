/**
 * Remediation run by the region by itself on real Kubernetes 1.20.2: one prepared 1+2 test bed
 * (test/support/cluster-bed.ts, as test/cluster-scale.test.ts) shared by every case, a cluster
 * created by the region from a Cluster file with `spec.remediation` enabled
 * (unhealthyAfterSeconds 30, maxUnhealthy 1). Nodes are killed with the region's power-off
 * action through the virtual Redfish BMC; nobody calls the remediator: the engine's
 * remediation loop reads the Nodes and acts, every rung on the cluster's timeline.
 *
 * 1. maxUnhealthy: both workers powered off at once → 2 of 3 nodes unhealthy, more than 1: the
 *    guard's reason on the timeline for each, nothing fenced. node2 powered back on → 1 of 3:
 *    node3 is remediated (fence confirmed Off before its Node is deleted, power-on, Ready).
 * 2. A worker that stays dead (its power target ignores power-on: a dead PSU) after a scale-in
 *    leaves node3 a ready spare: fenced, Node deleted, power-on fails (not Ready in time),
 *    reprovision fails (not wired), replaced by the spare — allocated, deployed, joined with a
 *    fresh token — which runs the workload; the dead machine is marked broken with the reason.
 * The control plane is never powered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  bedClusterFile,
  clusterTimeline,
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
const PAUSE = 'k8s.gcr.io/pause:3.2';
type RungEvent = TimelineEvent & { id: number; data: { node: string; step: string } };

describe('remediation by the region on the test bed: maxUnhealthy, power-on, replace by a spare', {
  skip: skipUnless(BED_NEEDS),
  timeout: 45 * 60_000,
}, () => {
  const cb: ClusterBed = newClusterBed(bedName('rm'));
  let kc: KubeConfig;
  const t0 = Date.now();

  before(async () => {
    await reapStaleBeds('rm');
    await startClusterBed(cb, {
      topology: '1+2',
      extra: () => ({
        remediationIntervalMs: 5000,
        remediation: { kubeconfig: (k) => cb.kube!.rewrite(k), readyTimeoutMs: 90_000 },
      }),
    });
  });
  after(async () => {
    await stopClusterBed(cb);
    process.stderr.write(`remediation-testbed wall time ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  });

  const timeline = () => clusterTimeline(cb, CLUSTER);
  const rungs = async () =>
    (await timeline()).filter((e) => e.type === 'cluster.node.remediation').map((e) => e as RungEvent);
  const cluster = async () =>
    (
      await cb.r!.api<{ cluster: { state: string; stateReason: string; members: { hostname: string }[] } }>(
        'GET',
        `/api/v1/clusters/${CLUSTER}`,
      )
    ).body.cluster;
  const power = async (node: string, action: 'power-off' | 'power-on') => {
    const r = await cb.r!.api('POST', `/api/v1/machines/${cb.ids.get(node)}/actions/${action}`, {});
    assert.equal(r.status, 202, JSON.stringify(r.body));
  };
  const ready = async () =>
    (await kc.makeApiClient(CoreV1Api).listNode()).items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata!.name!)
      .sort();
  const say = (what: string, since: number) =>
    process.stderr.write(`${what}: ${((Date.now() - since) / 1000).toFixed(1)} s\n`);

  it('creates the 1+2 cluster with remediation enabled; healthy, the loop does nothing', async () => {
    const t = Date.now();
    const file = bedClusterFile(CLUSTER, cb.bed!)
      .replace('count: 1\n      machines: { pool: general }', 'count: 2\n      machines: { pool: general }')
      .concat('  remediation: { enabled: true, unhealthyAfterSeconds: 30, maxUnhealthy: 1 }\n');
    const res = await cb.r!.api('POST', '/api/v1/clusters', { cluster: file, image: NODE_IMAGE.name });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await waitFor(
      async () => ['running', 'failed_creating'].includes((await cluster()).state),
      20 * 60_000,
      'the cluster to run',
    );
    assert.equal((await cluster()).state, 'running', (await cluster()).stateReason);
    say('create 1+2', t);
    kc = new KubeConfig();
    const stored = await cb.r!.region.store.clusterKubeconfig(
      (await cb.r!.region.store.getCluster(CLUSTER)).id,
    );
    kc.loadFromString(cb.kube!.rewrite(stored!));
    assert.deepEqual(await ready(), ['node1', 'node2', 'node3']);
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(await rungs(), []);
  });

  it('maxUnhealthy: both workers off at once → nothing fenced, the reason on the timeline; one back → the other is remediated', async () => {
    const t = Date.now();
    await power('node2', 'power-off');
    await power('node3', 'power-off');
    await waitFor(
      async () =>
        new Set(
          (await rungs()).filter((e) => /more than maxUnhealthy 1/.test(e.message)).map((e) => e.data.node),
        ).size === 2,
      5 * 60_000,
      'the guard to stop remediation of both workers',
    ).catch(async (e) => {
      // What the loop did instead, for the failure's reader.
      for (const r of await rungs()) process.stderr.write(`rung ${r.message}\n`);
      throw e;
    });
    say('both workers off → guard on the timeline', t);
    // A few more passes: still nothing fenced or deleted.
    await new Promise((r) => setTimeout(r, 15_000));
    const halted = await rungs();
    for (const e of halted) process.stderr.write(`maxUnhealthy ${e.message}\n`);
    assert.ok(
      halted.every((e) =>
        /: 2 of 3 nodes are unhealthy, more than maxUnhealthy 1 \(1\): likely a partition, not dead machines; remediating none$/.test(
          e.message,
        ),
      ),
      halted.map((e) => e.message).join('\n'),
    );
    assert.equal(halted.length, 2, 'told once per node, not pass after pass');

    // The partition heals on one side: node2 comes back, node3 alone is unhealthy (1 ≤ 1).
    const seen = halted.length;
    await power('node2', 'power-on');
    await waitFor(
      async () =>
        (await rungs()).slice(seen).some((e) => /Ready again after|remediation halted/.test(e.message)),
      10 * 60_000,
      'node3 to be remediated',
    );
    const ev = (await rungs()).slice(seen);
    for (const e of ev) process.stderr.write(`remediation ${e.message}\n`);
    assert.ok(
      ev.every((e) => e.data.node === 'node3'),
      'only node3 was remediated',
    );
    const at = (re: RegExp) => ev.findIndex((e) => re.test(e.message));
    assert.ok(
      at(/node3: unhealthy: Node Ready=(Unknown|False) for \d+ s \(more than 30 s\); remediating/) >= 0,
    );
    const fenced = at(/node3: fence: done \(the BMC reports power Off\)/);
    const deleted = at(/node3: delete-node: done \(Node deleted/);
    assert.ok(fenced >= 0 && deleted > fenced, 'fenced (confirmed Off) strictly before the Node was deleted');
    assert.ok(
      at(/node3: node3 is Ready again after power-on/) > deleted,
      ev.map((e) => e.message).join('\n'),
    );
    await waitFor(async () => (await ready()).length === 3, 180_000, 'every node Ready');
    say('guard + node3 remediated by power-on', t);
  });

  // The spare (node3, released wiped by the scale-in just before) joins again with a fresh token;
  // its join keeps kubeadm's bootstrap kubeconfig and puts it back if its kubelet is left
  // without one (src/cluster/render/bootstrap.ts).
  it('a worker that stays dead is fenced, deleted, not Ready after power-on, not reprovisioned, and replaced by the spare, which runs the workload', async () => {
    // node3 leaves: released with a wipe, a ready spare of the general pool.
    let t = Date.now();
    const scale = await cb.r!.api('POST', `/api/v1/clusters/${CLUSTER}/scale`, { workers: 1 });
    assert.equal(scale.status, 202, JSON.stringify(scale.body));
    await waitFor(async () => (await cluster()).state !== 'updating', 10 * 60_000, 'the scale-in');
    assert.equal((await cluster()).state, 'running', (await cluster()).stateReason);
    await waitFor(
      async () =>
        (await cb.r!.api<{ state: string }>('GET', `/api/v1/machines/${cb.ids.get('node3')}`)).body.state ===
        'ready',
      120_000,
      'node3 a ready spare',
    );
    say('scale-in to 1+1 (node3 spare)', t);

    // A workload only a worker may run (no control-plane toleration): node2's.
    const labels = { app: 'heal-web' };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'heal-web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'pause', image: PAUSE, imagePullPolicy: 'Never' }],
            },
          },
        },
      },
    });
    const workload = async () =>
      (
        await kc
          .makeApiClient(CoreV1Api)
          .listNamespacedPod({ namespace: 'default', labelSelector: 'app=heal-web' })
      ).items
        .filter(
          (p) =>
            !p.metadata?.deletionTimestamp &&
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        )
        .map((p) => p.spec!.nodeName!);
    await waitFor(async () => (await workload()).includes('node2'), 120_000, 'the workload Ready on node2');

    // node2 dies for good: its power supply ignores power-on.
    const target = cb.bmc!.targets.get('node2')!;
    target.powerOn = async () => {};
    const seen = (await rungs()).length;
    t = Date.now();
    await power('node2', 'power-off');
    await waitFor(
      async () => (await rungs()).slice(seen).some((e) => /replaced:|remediation halted/.test(e.message)),
      20 * 60_000,
      'the remediation of node2 to end',
    );
    const ev = (await rungs()).slice(seen);
    for (const e of ev) process.stderr.write(`remediation ${e.message}\n`);
    say('death of node2 → replaced by node3', t);
    assert.ok(
      ev.every((e) => e.data.node === 'node2'),
      'only node2 was remediated',
    );
    const at = (re: RegExp) => ev.findIndex((e) => re.test(e.message));
    const order = [
      /node2: unhealthy: Node Ready=(Unknown|False) for \d+ s \(more than 30 s\); remediating/,
      /node2: fence: done \(the BMC reports power Off\)/,
      /node2: delete-node: done \(Node deleted/,
      /node2: power-on: failed \(not Ready within 90 s\)/,
      /node2: reprovision: failed \(reprovision is not wired/,
      new RegExp(`node2: replace with spare ${cb.ids.get('node3')}: starting`),
      /node2: replace: done \(node3 \(spare [^)]+\) joined and Ready; node2's machine marked broken\)/,
      /node2: node2 replaced: node3/,
    ].map(at);
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order.join(',')}\n${ev.map((e) => e.message).join('\n')}`,
    );

    const c = await cluster();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(c.members.map((m) => m.hostname).sort(), ['node1', 'node3']);
    const dead = (
      await cb.r!.api<{ state: string; stateReason: string; owner: string }>(
        'GET',
        `/api/v1/machines/${cb.ids.get('node2')}`,
      )
    ).body;
    assert.equal(dead.state, 'broken');
    assert.equal(dead.owner, '');
    assert.match(dead.stateReason, /replaced in cluster heal: remediation: Node not Ready; power-on failed/);
    const names = (await kc.makeApiClient(CoreV1Api).listNode()).items.map((n) => n.metadata!.name!).sort();
    assert.deepEqual(names, ['node1', 'node3'], 'node2 gone from the API');
    await waitFor(async () => (await workload()).includes('node3'), 180_000, 'the workload Ready on node3');
    say('death of node2 → workload running on node3', t);
    // The replacement joined with a fresh token made on the control plane, after the death.
    const all = await timeline();
    const token = all.findIndex(
      (e) =>
        e.type === 'cluster.node.join-token' && e.machineId === cb.ids.get('node1') && Date.parse(e.at) > t,
    );
    const joined = all.findIndex(
      (e) =>
        e.type === 'agent.bootstrap.progress' &&
        e.machineId === cb.ids.get('node3') &&
        /kubeadm-join-done/.test(e.message) &&
        Date.parse(e.at) > t,
    );
    assert.ok(token >= 0 && joined > token, 'join token made on node1, then node3 joined');
    const cpPower = all.filter((e) => e.machineId === cb.ids.get('node1') && /power/i.test(e.type));
    assert.deepEqual(cpPower, [], 'the control plane was never powered');
  });
});
