// schedule: no other test bed beside this one (test/support/schedule.ts ALONE_MARK)
/**
 * A control-plane scale on real Kubernetes 1.20.2 (docs/day2.md "Scale"): the region creates a
 * 1-control-plane cluster (stacked etcd, no worker) on the prepared 3+0 bed — its two other
 * nodes stay ready machines — then `ingot cluster scale --control-planes 3 --wait` adds them one
 * at a time: each one's quorum checked, `kubeadm join --control-plane` with a fresh certificate
 * key and token, its etcd member started and healthy and its Node Ready before the next is
 * asked. etcd itself (etcdctl through the bed's shell, not the region's) then lists 3 started
 * members on every control plane, all healthy, and every Node is Ready.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { etcdctl } from '../src/kube/etcd/snapshot.ts';
import { bedShell } from '../src/lab/testbed/shell.ts';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, reapStaleBeds } from './support/testbed.ts';

const CLUSTER = 'bedcs';
const NODES = ['node1', 'node2', 'node3'];

interface ClusterBody {
  id: string;
  state: string;
  stateReason: string;
  members: { hostname: string; role: string; address: string }[];
}

describe('control-plane scale on the test bed: 1 → 3 control planes of a real cluster the region created', {
  skip: skipUnless(BED_NEEDS),
  timeout: 30 * 60_000,
}, () => {
  const prefix = process.env.INGOT_BED_PREFIX ?? 'k';
  const cb: ClusterBed = newClusterBed(bedName(prefix));
  let kc: KubeConfig;
  let failed = true;

  before(async () => {
    await reapStaleBeds(prefix);
    await startClusterBed(cb, { topology: '3+0', extra: (c) => ({ nodeShell: bedShell(c.root, c.name) }) });
  });

  after(async () => {
    // A failed run keeps the cluster's timeline and the nodes' logs in a directory it names.
    const keep = failed ? join(tmpdir(), `ingot-${prefix}-logs-${process.pid}`) : undefined;
    if (keep && cb.r) {
      mkdirSync(keep, { recursive: true });
      const res = await cb.r.api('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`).catch(() => null);
      if (res) writeFileSync(join(keep, 'events.json'), JSON.stringify(res.body, null, 1));
      process.stderr.write(`the cluster's timeline and the nodes' logs are in ${keep}\n`);
    }
    await stopClusterBed(cb, keep);
  });

  const shell = () => bedShell(cb.root, cb.name);
  const cluster = async () =>
    (await cb.r!.api<{ cluster: ClusterBody }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster;
  const etcdMembers = async (via: string) =>
    (await shell().exec(via, etcdctl('member', 'list')))
      .trim()
      .split('\n')
      .map((l) => l.split(',').map((x) => x.trim()))
      .map(([id, status, name]) => ({ id, started: status === 'started', name }));
  const readyNodes = async () =>
    (await kc.makeApiClient(CoreV1Api).listNode()).items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata?.name)
      .sort();

  it('`ingot cluster create` makes 1 control plane; the two other nodes stay ready machines', async () => {
    const file = join(cb.root, 'cluster.yaml');
    writeFileSync(file, bedClusterFile(CLUSTER, cb.bed!, 'v1.20.2', { controlPlanes: 1, workers: 0 }));
    const t0 = Date.now();
    const run = await runIngot(
      ['cluster', 'create', '-f', file, '--image', NODE_IMAGE.name, '--wait', '--timeout', '1500'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    process.stderr.write(`create 1+0: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const c = await cluster();
    assert.deepEqual(
      c.members.map((m) => [m.hostname, m.role]),
      [['node1', 'init']],
    );
    kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite((await cb.r!.region.store.clusterKubeconfig(c.id))!));
    assert.deepEqual(await readyNodes(), ['node1']);
    assert.deepEqual(
      (await etcdMembers('node1')).map((m) => [m.name, m.started]),
      [['node1', true]],
    );
    for (const n of ['node2', 'node3'])
      assert.equal(
        (await cb.r!.api<{ state: string }>('GET', `/api/v1/machines/${cb.ids.get(n)}`)).body.state,
        'ready',
      );
  });

  it('`ingot cluster scale --control-planes 3 --wait` joins the two ready machines one at a time: 3 started, healthy members on every control plane, Nodes Ready 3/3', async () => {
    assert.ok(kc, 'the create case ran');
    const t0 = Date.now();
    const run = await runIngot(
      ['cluster', 'scale', CLUSTER, '--control-planes', '3', '--wait', '--timeout', '1500'],
      {
        env: cb.r!.cliEnv,
      },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    const took = (Date.now() - t0) / 1000;
    const c = await cluster();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(
      c.members.map((m) => [m.hostname, m.role, m.address.split('/')[0]]).sort(),
      cb.bed!.nodes.map((n, i) => [n.name, i === 0 ? 'init' : 'control-plane', n.ip]).sort(),
      'node2 and node3 control planes at their bed addresses',
    );
    for (const via of NODES)
      assert.deepEqual(
        (await etcdMembers(via)).map((m) => [m.name, m.started]).sort(),
        NODES.map((n) => [n, true]),
        `member list on ${via}`,
      );
    const health = JSON.parse(
      await shell().exec('node2', etcdctl('endpoint', 'health', '--cluster', '-w', 'json')),
    ) as { endpoint: string; health: boolean }[];
    assert.deepEqual(
      health
        .filter((e) => e.health)
        .map((e) => e.endpoint)
        .sort(),
      cb.bed!.nodes.map((n) => `https://${n.ip}:2379`).sort(),
      'every member healthy',
    );
    assert.deepEqual(await readyNodes(), NODES);

    // One at a time: the second join is asked only after the first one's member is healthy and
    // its Node Ready. No credential on the timeline.
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const asked = ev.filter((e) => e.type === 'cluster.node.cp-join');
    const ready = ev.filter((e) => e.type === 'cluster.node.cp-ready');
    assert.equal(asked.length, 2, asked.map((e) => e.message).join('\n'));
    assert.equal(ready.length, 2, ready.map((e) => e.message).join('\n'));
    const idx = (e: TimelineEvent) => ev.indexOf(e);
    assert.ok(idx(ready[0]) < idx(asked[1]), 'the first control plane Ready before the second is asked');
    assert.notEqual(asked[0].machineId, asked[1].machineId);
    assert.ok(!JSON.stringify(ev).match(/[a-z0-9]{6}\.[a-z0-9]{16}/), 'no bootstrap token on the timeline');
    process.stderr.write(
      `scale 1 → 3 control planes: ${took.toFixed(1)} s\n${[...asked, ...ready]
        .sort((a, b) => idx(a) - idx(b))
        .map((e) => `  ${e.message.slice(0, 140)}`)
        .join('\n')}\n`,
    );
    failed = false;
  });
});
