// schedule: no other test bed beside this one (test/support/schedule.ts ALONE_MARK)
/**
 * Control planes on real Kubernetes 1.20.2, a cluster the region made (docs/day2.md "Scale", "OS
 * replacement", "Remediation"), on the prepared 3+0 bed — the nodes enrolled behind the virtual
 * Redfish BMC, the lab's deploy seam, a node agent per node (test/support/cluster-bed.ts):
 * - `ingot cluster create` of 1 control plane (stacked etcd, no worker), then `ingot cluster
 *   scale --control-planes 3` adds node2 and node3 one at a time (quorum checked, `kubeadm join
 *   --control-plane` with a fresh certificate key and token, member healthy and Node Ready
 *   before the next);
 * - `ingot cluster os-replace --node node1` replaces the init node's OS: node1 drained, its etcd
 *   member removed through another member, its Node deleted, its machine redeployed (the lab's
 *   OS-write seam writes its disks again and the BMC boots it), joined again;
 * - a control plane lost (node3 off, its first power-on ignored) is remediated: fenced, its Node
 *   deleted, not Ready after power-on, reprovisioned — its member swapped through a live one.
 * After each, etcd itself (etcdctl through the bed's shell, not the region's) lists 3 started
 * members, all healthy, every Node is Ready, and (for the last two) the API answered through the
 * bed's load balancer while it ran (polled every second).
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
  clusterTimeline,
  type ClusterBed,
  newClusterBed,
  nodeTimeline,
  startClusterBed,
  stopClusterBed,
  type TimelineEvent,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, longestSilence, reapStaleBeds, waitFor } from './support/testbed.ts';

const CLUSTER = 'bedcp';
const NODES = ['node1', 'node2', 'node3'];

interface ClusterBody {
  id: string;
  state: string;
  stateReason: string;
  members: { hostname: string; address: string; role: string; machineId: string }[];
}

interface Op {
  state: string;
  reason: string;
  progress: {
    snapshot: { state: string };
    nodes: { hostname: string; state: string; step: string | null; message: string }[];
  };
}

/** `etcdctl member list` as etcd prints it: `id, status, name, peer URLs, client URLs, learner`. */
function members(out: string): { id: string; started: boolean; name: string }[] {
  return out
    .trim()
    .split('\n')
    .map((l) => l.split(',').map((x) => x.trim()))
    .map(([id, status, name]) => ({ id, started: status === 'started', name }));
}

describe('control-plane OS replacement on the test bed: a real 3-control-plane cluster the region created', {
  skip: skipUnless(BED_NEEDS),
  timeout: 30 * 60_000,
}, () => {
  // INGOT_BED_PREFIX: another prefix (1–3 letters) for a second checkout's concurrent run.
  const prefix = process.env.INGOT_BED_PREFIX ?? 'q';
  const cb: ClusterBed = newClusterBed(bedName(prefix));
  let kc: KubeConfig;
  let kubeconfig: string;
  let failed = true;

  before(async () => {
    await reapStaleBeds(prefix);
    // The operation's etcd snapshot through the bed's shell (as the 1+1 reconfigure bed's); every
    // other node command of the roll goes through the nodes' own node agents.
    // The remediator passes every 5 s; a node it powers on has 45 s to be Ready (its first power-on does nothing here: the wait runs out).
    await startClusterBed(cb, {
      topology: '3+0',
      extra: (c) => ({
        nodeShell: bedShell(c.root, c.name),
        remediationIntervalMs: 5000,
        remediation: { kubeconfig: (k) => c.kube!.rewrite(k), readyTimeoutMs: 45_000 },
      }),
    });
    process.stderr.write(`prepared 3+0 bed up: ${JSON.stringify(cb.prepareTimings)}\n`);
  });

  after(async () => {
    // A failed run keeps the cluster's timeline, its operations and the nodes' logs in a directory it names.
    const keep = failed ? join(tmpdir(), `ingot-${prefix}-logs-${process.pid}`) : undefined;
    if (keep && cb.r) {
      mkdirSync(keep, { recursive: true });
      for (const [f, path] of [
        ['events.json', `/api/v1/clusters/${CLUSTER}/events?limit=1000`],
        ['operations.json', `/api/v1/clusters/${CLUSTER}/operations`],
      ]) {
        const res = await cb.r.api('GET', path).catch(() => null);
        if (res) writeFileSync(join(keep, f), JSON.stringify(res.body, null, 1));
      }
      process.stderr.write(`the cluster's timeline and the nodes' logs are in ${keep}\n`);
    }
    await stopClusterBed(cb, keep);
  });

  const shell = () => bedShell(cb.root, cb.name);
  const cluster = async () =>
    (await cb.r!.api<{ cluster: ClusterBody }>('GET', `/api/v1/clusters/${CLUSTER}`)).body.cluster;
  /** etcd's own member list, asked on `via`'s local member. */
  const etcdMembers = async (via: string) => members(await shell().exec(via, etcdctl('member', 'list')));
  /** The endpoints `etcdctl endpoint health --cluster` (asked on `via`) says are healthy. */
  const etcdHealthy = async (via: string) =>
    (
      JSON.parse(await shell().exec(via, etcdctl('endpoint', 'health', '--cluster', '-w', 'json'))) as {
        endpoint: string;
        health: boolean;
      }[]
    )
      .filter((e) => e.health)
      .map((e) => e.endpoint)
      .sort();
  const nodes = async () => (await kc.makeApiClient(CoreV1Api).listNode()).items;
  /** On every control plane etcd lists 3 started members, `node`'s a new one (not `oldId`). */
  const threeMembersWithNew = async (node: string, oldId: string) => {
    for (const via of NODES) {
      const listed = await etcdMembers(via);
      assert.deepEqual(
        listed.map((m) => [m.name, m.started]).sort(),
        NODES.map((n) => [n, true]),
        `member list on ${via}: ${JSON.stringify(listed)}`,
      );
      assert.notEqual(listed.find((m) => m.name === node)?.id, oldId, `${node}'s member is a new one`);
    }
  };
  /** The API polled every second through the bed's load balancer until `stop`. */
  const pollApi = () => {
    const polls: { at: number; ok: boolean; etcd: string }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        // A poll counts from when it was asked: one that hangs until the client's 5-s timeout is silence.
        const at = Date.now();
        const c = await cb.kube!.conditions(kubeconfig);
        polls.push({
          at,
          ok: c.apiReachable,
          etcd: c.etcd ? `${c.etcd.healthy}/${c.etcd.members}` : (c.apiError ?? '').slice(0, 80),
        });
        await new Promise((res) => setTimeout(res, 1000));
      }
    })();
    return {
      polls,
      stop: async () => {
        polling = false;
        await poller;
      },
    };
  };
  const ready = (n: Awaited<ReturnType<typeof nodes>>[number]) =>
    !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  /** Every etcd member healthy (`endpoint health --cluster` asked on `via`) and every Node Ready. */
  const healthyAndReady = async (via: string) => {
    assert.deepEqual(
      await etcdHealthy(via),
      cb.bed!.nodes.map((n) => `https://${n.ip}:2379`).sort(),
      `every member healthy (asked on ${via})`,
    );
    assert.deepEqual(
      (await nodes())
        .filter(ready)
        .map((n) => n.metadata?.name)
        .sort(),
      NODES,
      'every Node Ready',
    );
  };

  it('`ingot cluster create` makes 1 control plane; the two other nodes stay ready machines', async () => {
    const file = join(cb.root, 'cluster.yaml');
    // Remediation on, with reprovision: a lost control plane is redeployed and rejoins (the last case).
    writeFileSync(
      file,
      `${bedClusterFile(CLUSTER, cb.bed!, 'v1.20.2', { controlPlanes: 1, workers: 0 })}  remediation: { enabled: true, unhealthyAfterSeconds: 30, maxUnhealthy: 1, reprovision: true }\n`,
    );
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
    kubeconfig = (await cb.r!.region.store.clusterKubeconfig(c.id))!;
    kc = new KubeConfig();
    kc.loadFromString(cb.kube!.rewrite(kubeconfig));
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
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    const took = (Date.now() - t0) / 1000;
    const c = await cluster();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(
      c.members.map((m) => [m.hostname, m.role, m.address.split('/')[0]]).sort(),
      cb.bed!.nodes.map((n, i) => [n.name, i === 0 ? 'init' : 'control-plane', n.ip]).sort(),
      'node1 the init node, node2 and node3 control planes, each at its bed address',
    );
    for (const via of NODES)
      assert.deepEqual(
        (await etcdMembers(via)).map((m) => [m.name, m.started]).sort(),
        NODES.map((n) => [n, true]),
        `member list on ${via}`,
      );
    await healthyAndReady('node2');
    // One at a time: the second join is asked only after the first one's member is healthy and
    // its Node Ready. No credential on the timeline.
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const asked = ev.filter((e) => e.type === 'cluster.node.cp-join');
    const joined = ev.filter((e) => e.type === 'cluster.node.cp-ready');
    assert.equal(asked.length, 2, asked.map((e) => e.message).join('\n'));
    assert.equal(joined.length, 2, joined.map((e) => e.message).join('\n'));
    assert.ok(ev.indexOf(joined[0]) < ev.indexOf(asked[1]), 'the first one Ready before the second is asked');
    assert.notEqual(asked[0].machineId, asked[1].machineId);
    assert.ok(!JSON.stringify(ev).match(/[a-z0-9]{6}\.[a-z0-9]{16}/), 'no bootstrap token on the timeline');
    process.stderr.write(`scale 1 → 3 control planes: ${took.toFixed(1)} s\n`);
  });

  it('`ingot cluster os-replace --node node1` drains the init node, removes its etcd member, redeploys it and rejoins it with kubeadm join --control-plane: 3 healthy members again (node1 a new one), Nodes Ready, the API answering throughout', async () => {
    assert.ok(kc, 'the create case ran');
    const api = kc.makeApiClient(CoreV1Api);
    const created = async () =>
      new Date((await api.readNode({ name: 'node1' })).metadata?.creationTimestamp ?? 0).getTime();
    const createdBefore = await created();
    const oldMember = (await etcdMembers('node2')).find((m) => m.name === 'node1');
    assert.ok(oldMember, "node1's etcd member before");

    // The API polled every second through the bed's load balancer, while the roll runs.
    const { polls, stop } = pollApi();
    const t0 = Date.now();
    let op: Op | undefined;
    try {
      const run = await runIngot(
        ['cluster', 'os-replace', CLUSTER, '--image', NODE_IMAGE.name, '--node', 'node1'],
        { env: cb.r!.cliEnv },
      );
      assert.equal(run.code, 0, `${run.err}\n${run.out}`);
      await waitFor(
        async () => {
          [op] = (await cb.r!.api<Op[]>('GET', `/api/v1/clusters/${CLUSTER}/operations`)).body;
          return op.state !== 'running';
        },
        15 * 60_000,
        'the OS replacement of node1 to end',
      );
    } finally {
      await stop();
    }
    const took = (Date.now() - t0) / 1000;
    assert.equal(op!.state, 'succeeded', `${op!.reason}\n${JSON.stringify(op!.progress.nodes)}`);
    assert.deepEqual(
      op!.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['node1', 'done', 'ready']],
    );
    assert.equal(op!.progress.snapshot.state, 'done', "the operation's etcd snapshot first");
    await waitFor(async () => (await cluster()).state === 'running', 60_000, 'the cluster running again');

    // etcd itself, through the bed's shell on each control plane: three started members, node1's
    // a new one (its old member was removed, not kept), every endpoint healthy.
    await threeMembersWithNew('node1', oldMember.id);
    await healthyAndReady('node1');
    // node1 registered anew, schedulable again.
    const all = await nodes();
    assert.ok((await created()) > createdBefore, 'node1 registered anew (its Node deleted, joined again)');
    assert.ok(!all.find((n) => n.metadata?.name === 'node1')?.spec?.unschedulable, 'node1 uncordoned');
    const m = (
      await cb.r!.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${cb.ids.get('node1')}`)
    ).body;
    assert.deepEqual([m.state, m.owner], ['deployed', `cluster:${CLUSTER}`]);

    // node1's sub-steps on the timeline, in order; no credential there.
    const ev = (await cb.r!.api<TimelineEvent[]>('GET', `/api/v1/clusters/${CLUSTER}/events?limit=1000`))
      .body;
    const n1 = cb.ids.get('node1');
    const at = (re: RegExp) => ev.findIndex((e) => e.machineId === n1 && re.test(e.message));
    const order = [
      at(/^node1: quorum kept \(.*\); drained/),
      at(/^node1: etcd member [0-9a-f]+ removed through node[23] /),
      at(/^node1: Node deleted; redeploy with image /),
      at(/^node1: redeployed with image /),
      at(/^node1: kubeadm join \S+ --control-plane asked, with a new certificate key/),
      at(/^node1: joined again as a control plane: /),
      at(/^node1: done: etcd member [0-9a-f]+ started and healthy, Node Ready, uncordoned/),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order}\n${ev.map((e) => e.message).join('\n')}`,
    );
    assert.ok(!JSON.stringify(ev).match(/[a-z0-9]{6}\.[a-z0-9]{16}/), 'no bootstrap token on the timeline');

    // The API answered throughout: two control planes serve while node1 is away.
    const gap = longestSilence(polls);
    const answered = polls.filter((p) => p.ok).length;
    process.stderr.write(
      `os-replace node1: ${took.toFixed(1)} s; API polls ${polls.length}, answered ${answered}, longest gap ${(gap / 1000).toFixed(1)} s; etcd pods seen ${[...new Set(polls.map((p) => p.etcd))].join(', ')}\n`,
    );
    process.stderr.write(
      `timeline node1: ${nodeTimeline(ev, n1!)
        .map((t) => `${t.what.slice(0, 60)} +${t.s.toFixed(1)}s`)
        .join(' | ')}\n`,
    );
    assert.ok(polls.length >= 10, `polled ${polls.length} times`);
    assert.equal(polls.at(-1)?.ok, true, 'the API answers at the end');
    // Two control planes serve while node1 is away: at most the load balancer's down-check (1-s
    // checks, 2 failures) plus a poll that timed out (5 s) on the backend going away; a lost
    // quorum would silence it until node1 rejoined (a minute or more).
    assert.ok(gap <= 15_000, `the API silent for ${gap / 1000} s: ${JSON.stringify(polls)}`);
    failed = false;
  });

  it('a control plane lost (powered off, its first power-on does nothing) is remediated: fenced, its Node deleted, not Ready after power-on, reprovisioned — its etcd member removed through a live one, redeployed, joined again — with etcd quorum and the API kept throughout', async () => {
    assert.ok(kc && !failed, 'the earlier cases ran');
    failed = true;
    const oldMember = (await etcdMembers('node1')).find((m) => m.name === 'node3');
    assert.ok(oldMember, "node3's etcd member before");
    const target = cb.bmc!.targets.get('node3')!;
    const powerOn = target.powerOn.bind(target);
    let ignored = 0;
    // Its power supply ignores the first power-on after the loss (the remediation's), then works.
    target.powerOn = async (boot) => {
      if (ignored++ === 0) return;
      await powerOn(boot);
    };
    /** The cluster's remediation lines, oldest first. */
    const rungs = async () =>
      (await clusterTimeline(cb, CLUSTER)).filter((e) => e.type === 'cluster.node.remediation');
    const seen = (await rungs()).length;
    const { polls, stop } = pollApi();
    const t0 = Date.now();
    try {
      const off = await cb.r!.api('POST', `/api/v1/machines/${cb.ids.get('node3')}/actions/power-off`, {});
      assert.equal(off.status, 202, JSON.stringify(off.body));
      await waitFor(
        async () =>
          (await rungs()).slice(seen).some((e) => /is Ready again after|remediation halted/.test(e.message)),
        20 * 60_000,
        'the remediation of node3 to end',
      );
    } finally {
      await stop();
    }
    const took = (Date.now() - t0) / 1000;
    const ev = (await rungs()).slice(seen).map((e) => e.message);
    for (const m of ev) process.stderr.write(`remediation ${m}\n`);
    const at = (re: RegExp) => ev.findIndex((m) => re.test(m));
    const order = [
      at(/^node3: unhealthy: Node Ready=(Unknown|False) for \d+ s \(more than 30 s\); remediating/),
      at(/^node3: fence: done \(the BMC reports power Off\)/),
      at(/^node3: delete-node: done/),
      at(/^node3: power-on: failed \(not Ready within 45 s; fenced again/),
      at(/^node3: reprovision: done/),
      at(/^node3: node3 is Ready again after reprovision/),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order}\n${ev.join('\n')}`,
    );
    assert.ok(
      ev.every((m) => m.startsWith('node3: ')),
      'only node3 was remediated',
    );
    assert.equal(ignored >= 2, true, 'the reprovision booted it again');
    await waitFor(async () => (await cluster()).state === 'running', 60_000, 'the cluster running again');

    // etcd itself: three started members, node3's a new one, every endpoint healthy.
    await threeMembersWithNew('node3', oldMember.id);
    await healthyAndReady('node3');
    // Two control planes kept etcd's quorum and served the API while node3 was lost.
    const gap = longestSilence(polls);
    process.stderr.write(
      `control plane node3 lost → reprovisioned: ${took.toFixed(1)} s; API polls ${polls.length}, answered ${polls.filter((p) => p.ok).length}, longest gap ${(gap / 1000).toFixed(1)} s\n`,
    );
    assert.equal(polls.at(-1)?.ok, true, 'the API answers at the end');
    assert.ok(gap <= 15_000, `the API silent for ${gap / 1000} s: ${JSON.stringify(polls)}`);
    failed = false;
  });
});
