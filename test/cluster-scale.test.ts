/**
 * `ingot cluster scale` on real Kubernetes 1.20.2 (docs/day2.md "Scale"): the prepared bed of
 * test/cluster-testbed.test.ts with one more node, enrolled behind the virtual Redfish BMC and
 * commissioned, which stays a spare ready machine while a 1 control plane + 1 worker cluster is
 * created. Scaling the workers to 2 allocates it, deploys it (the lab's OS-write seam), and its
 * real node agent joins it with a fresh token the control plane's node agent made; a
 * Deployment spreads to it. Scaling back to 1 cordons and drains it through the Eviction API
 * (the pod rescheduled on the other worker), deletes its Node and releases the machine with a
 * wipe, ready again. Between the two, `ingot cluster os-replace --node node3` replaces node3's
 * OS in place: drained, its Node deleted, its machine redeployed (the lab's OS-write seam writes
 * its disk again), joined with a fresh token, and a pod runs on it again. The wiring is
 * test/support/cluster-bed.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  nodeTimeline,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from './support/cluster-bed.ts';
import { readState } from '../src/lab/testbed/bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, importHttpd, reapStaleBeds, waitFor } from './support/testbed.ts';
import { createHttpd } from './support/workloads.ts';

const CLUSTER = 'bedsc';

interface ClusterBody {
  id: string;
  state: string;
  stateReason: string;
  members: { hostname: string; address: string; role: string; machineId: string }[];
}

describe('cluster scale on the test bed: a spare ready machine joins a real 1+1 cluster and leaves it', {
  skip: skipUnless(BED_NEEDS),
  timeout: 20 * 60_000,
}, () => {
  const cb: ClusterBed = newClusterBed(bedName('sc'));
  let kc: KubeConfig;
  let failed = true;

  before(async () => {
    await reapStaleBeds('sc');
    await startClusterBed(cb, { topology: '1+2' });
    process.stderr.write(`prepared bed up: ${JSON.stringify(cb.prepareTimings)}\n`);
  });

  after(async () => {
    // A failed run keeps the cluster's timeline and the nodes' logs in a directory it names.
    const keep = failed ? join(tmpdir(), `ingot-sc-logs-${process.pid}`) : undefined;
    if (keep && cb.r) {
      const ev = await cb.r.api('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`).catch(() => null);
      mkdirSync(keep, { recursive: true });
      if (ev) writeFileSync(join(keep, 'events.json'), JSON.stringify(ev.body, null, 1));
      process.stderr.write(`the cluster's timeline and the nodes' logs are in ${keep}\n`);
    }
    await stopClusterBed(cb, keep);
  });

  const cluster = async () =>
    (await cb.r!.api<{ cluster: ClusterBody }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster;
  const machine = async (node: string) =>
    (await cb.r!.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${cb.ids.get(node)}`)).body;
  const workersOf = (c: ClusterBody) =>
    c.members
      .filter((m) => m.role === 'worker')
      .map((m) => m.hostname)
      .sort();
  const podsByNode = async () => {
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app=scale-web',
    });
    return pods.items
      .filter(
        (p) =>
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      )
      .map((p) => [p.metadata!.name!, p.spec!.nodeName!] as const);
  };

  it('creates the 1+1 cluster from two of the three ready machines; the third stays a ready spare', async () => {
    const file = join(cb.root, 'cluster.yaml');
    writeFileSync(file, bedClusterFile(CLUSTER, cb.bed!));
    const run = await runIngot(
      ['cluster', 'create', '-f', file, '--image', NODE_IMAGE.name, '--wait', '--timeout', '900'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    const c = await cluster();
    assert.deepEqual(workersOf(c), ['node2']);
    const spare = await machine('node3');
    assert.equal(spare.state, 'ready');
    assert.equal(spare.owner, '');
    const k = await cb.r!.region.store.clusterKubeconfig(c.id);
    kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite(k!));
  });

  it('`ingot cluster scale --workers 2` allocates the spare, which joins with a fresh token and goes Ready; a Deployment spreads to it', async () => {
    const t0 = Date.now();
    const run = await runIngot(
      ['cluster', 'scale', CLUSTER, '--workers', '2', '--wait', '--timeout', '600'],
      {
        env: cb.r!.cliEnv,
      },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    assert.match(run.out, /^cluster bedsc running: add node3 done; workers: 2$/m);
    process.stderr.write(`scale out: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const c = await cluster();
    assert.deepEqual(workersOf(c), ['node2', 'node3']);
    assert.equal(
      c.members.find((m) => m.hostname === 'node3')?.address.split('/')[0],
      cb.bed!.nodes.find((n) => n.name === 'node3')!.ip,
      'the next free address of the subnet: the one the bed gave node3',
    );
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
    const n3 = nodes.find((n) => n.metadata?.name === 'node3');
    assert.ok(n3, 'node3 registered');
    assert.ok(
      n3.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
      'node3 Ready',
    );
    // Its bootstrap ran through its own node agent, after the control plane's node agent made the token.
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const token = ev.findIndex(
      (e) => e.type === 'cluster.node.join-token' && e.machineId === cb.ids.get('node1'),
    );
    const joined = ev.findIndex(
      (e) =>
        e.type === 'agent.bootstrap.progress' &&
        e.machineId === cb.ids.get('node3') &&
        /kubeadm-join-done/.test(e.message),
    );
    assert.ok(token >= 0 && joined > token, 'join token made on node1, then node3 joined');
    assert.ok(!JSON.stringify(ev).match(/[a-z0-9]{6}\.[a-z0-9]{16}/), 'no bootstrap token on the timeline');
    process.stderr.write(
      `timeline node3: ${nodeTimeline(ev, cb.ids.get('node3')!)
        .map((t) => `${t.what} +${t.s.toFixed(1)}s`)
        .join(' | ')}\n`,
    );

    // The deploys booted the nodes again: their processes are the state file's now.
    await importHttpd(readState(cb.root, cb.name)!, ['node2', 'node3']);
    const labels = { app: 'scale-web' };
    await createHttpd(kc.makeApiClient(AppsV1Api), {
      name: 'scale-web',
      replicas: 2,
      terminationGracePeriodSeconds: 1,
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchLabels: labels },
                topologyKey: 'kubernetes.io/hostname',
              },
            },
          ],
        },
      },
    });
    await waitFor(async () => (await podsByNode()).length === 2, 120_000, 'two scale-web pods Ready');
    assert.deepEqual(
      (await podsByNode()).map(([, n]) => n).sort(),
      ['node2', 'node3'],
      'one pod on each worker',
    );
  });

  // The OS replacement through the bed's OS-write seam (deploy-agent.ts): the node's disk
  // rewritten, the node power-cycled into it, its node agent joining it again.
  it('`ingot cluster os-replace --node node3` drains node3, deletes its Node, redeploys its machine, rejoins it with a fresh token, and it runs a pod again', async () => {
    const api = kc.makeApiClient(CoreV1Api);
    const created = async () =>
      new Date((await api.readNode({ name: 'node3' })).metadata?.creationTimestamp ?? 0).getTime();
    const before = await created();
    const [moved] = (await podsByNode()).filter(([, n]) => n === 'node3').map(([p]) => p);
    assert.ok(moved, 'a scale-web pod on node3 before');
    const t0 = Date.now();
    const run = await runIngot(
      ['cluster', 'os-replace', CLUSTER, '--image', NODE_IMAGE.name, '--node', 'node3'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    interface Op {
      state: string;
      reason: string;
      progress: { nodes: { hostname: string; state: string; step: string | null }[] };
    }
    const last = async () => (await cb.r!.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body[0];
    await waitFor(
      async () => (await last()).state !== 'running',
      900_000,
      'the OS replacement of node3 to end',
    );
    const op = await last();
    process.stderr.write(`os-replace node3: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    assert.equal(op.state, 'succeeded', op.reason);
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['node3', 'done', 'ready']],
    );
    await waitFor(async () => (await cluster()).state === 'running', 60_000, 'the cluster running again');
    assert.ok((await created()) > before, 'node3 registered anew (its Node was deleted and it joined again)');
    const m = await machine('node3');
    assert.deepEqual([m.state, m.owner], ['deployed', `cluster:${CLUSTER}`]);
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const at = (f: (e: TimelineEvent) => boolean) => ev.findIndex(f);
    const n3 = cb.ids.get('node3');
    const order = [
      at((e) => e.machineId === n3 && /^node3: drained: /.test(e.message)),
      at((e) => e.machineId === n3 && /^node3: Node deleted; redeploy with image /.test(e.message)),
      at((e) => e.machineId === n3 && /^node3: redeployed with image /.test(e.message)),
      at((e) => e.machineId === n3 && /^node3: joined again: .*kubeadm-join-done/.test(e.message)),
      at((e) => e.machineId === n3 && /^node3: done: Ready/.test(e.message)),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order}\n${ev.map((e) => e.message).join('\n')}`,
    );
    assert.ok(!JSON.stringify(ev).match(/[a-z0-9]{6}\.[a-z0-9]{16}/), 'no bootstrap token on the timeline');
    process.stderr.write(
      `timeline node3: ${nodeTimeline(ev, n3!)
        .map((t) => `${t.what} +${t.s.toFixed(1)}s`)
        .join(' | ')}\n`,
    );
    // The pod node3 had was evicted; a pod deleted on node2 comes back on node3 (anti-affinity):
    // the redeployed node runs workloads again.
    await waitFor(async () => (await podsByNode()).length === 2, 120_000, 'two scale-web pods Ready');
    assert.ok(!(await podsByNode()).some(([p]) => p === moved), `${moved} was evicted`);
    await importHttpd(readState(cb.root, cb.name)!, ['node3']);
    const [onNode2] = (await podsByNode()).filter(([, n]) => n === 'node2').map(([p]) => p);
    await api.deleteNamespacedPod({ name: onNode2, namespace: 'default' });
    await waitFor(
      async () => (await podsByNode()).some(([, n]) => n === 'node3'),
      180_000,
      'a scale-web pod Ready on the redeployed node3',
    );
  });

  it('`ingot cluster scale --workers 1` drains node3 (its pod rescheduled on node2), deletes its Node and releases it wiped, ready again', async () => {
    const before = await podsByNode();
    const [moved] = before.filter(([, n]) => n === 'node3').map(([p]) => p);
    const t0 = Date.now();
    const run = await runIngot(
      ['cluster', 'scale', CLUSTER, '--workers', '1', '--wait', '--timeout', '600'],
      {
        env: cb.r!.cliEnv,
      },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    assert.match(run.out, /^cluster bedsc running: remove node3 done; workers: 1$/m);
    process.stderr.write(`scale in: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    assert.deepEqual(workersOf(await cluster()), ['node2']);
    const names = (await kc.makeApiClient(CoreV1Api).listNode()).items.map((n) => n.metadata?.name).sort();
    assert.deepEqual(names, ['node1', 'node2'], 'node3 deleted from the API');
    await waitFor(async () => (await podsByNode()).length === 2, 120_000, 'two scale-web pods Ready again');
    const after = await podsByNode();
    assert.ok(!after.some(([p]) => p === moved), `the pod ${moved} of node3 was evicted`);
    assert.deepEqual(
      after.map(([, n]) => n),
      ['node2', 'node2'],
      'rescheduled on the remaining worker',
    );
    const m = await machine('node3');
    assert.equal(m.state, 'ready');
    assert.equal(m.owner, '');
    assert.equal(existsSync(join(cb.root, cb.name, 'node3', 'etc-up', 'kubernetes')), false, 'node3 wiped');
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const steps = ev
      .filter(
        (e) =>
          e.machineId === cb.ids.get('node3') &&
          /^cluster\.node\.(drain|drained|deleted|release|removed)$/.test(e.type),
      )
      .map((e) => e.type);
    assert.deepEqual(steps, [
      'cluster.node.drain',
      'cluster.node.drained',
      'cluster.node.deleted',
      'cluster.node.release',
      'cluster.node.removed',
    ]);
    failed = false;
  });
});
