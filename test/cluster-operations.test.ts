/**
 * Cluster operations over the API and CLI on a simulated cluster (fake:// members, the in-memory
 * Kubernetes): a reconfigure from a changed Cluster file walks the roll (snapshot, control
 * plane, workers drained and uncordoned one at a time), one operation per cluster (409
 * INGOT_OPERATION_RUNNING naming the running one), pause/resume/abort, and a halt at the first
 * failure naming the node and the reason. The real roll is test/cluster-reconfigure-bed.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKube } from '../src/kube/fake.ts';
import { startOsReplace } from '../src/engine/cluster/operation-os-replace.ts';
import { clusterYaml, NODE_IMAGE, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

interface Op {
  id: string;
  state: string;
  reason: string;
  params: { changes: { flag: string; from: string | null; to: string | null }[] };
  progress: {
    snapshot: { state: string };
    nodes: { hostname: string; state: string; step: string | null; message?: string | null }[];
  };
}
interface Err {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

const withFlag = (flags: Record<string, string>) =>
  `${clusterYaml('ops', { net: '10.41' })}  apiServer:\n    extraArgs:\n${Object.entries(flags)
    .map(([k, v]) => `      ${k}: "${v}"`)
    .join('\n')}\n`;

describe('cluster operations on a simulated cluster', () => {
  let r: TestRegion;
  const kube = new FakeKube();
  const state = async () =>
    (
      await r.api<{ cluster: { state: string; clusterFile: string; version: string } }>(
        'GET',
        '/api/v1/clusters/ops',
      )
    ).body.cluster;
  const ops = async () => (await r.api<Op[]>('GET', '/api/v1/clusters/ops/operations')).body;
  const setReady = (node: string, ready: boolean) => {
    for (const m of kube.nodes.values()) if (m.has(node)) m.set(node, ready);
  };

  before(async () => {
    r = await startTestRegion({ clusterLimits: { pollMs: 20 }, simulatedKube: kube });
    await seedClusterRegion(r, '10.41');
    assert.equal(
      (await r.api('POST', '/api/v1/clusters', { cluster: clusterYaml('ops', { net: '10.41' }) })).status,
      202,
    );
    await eventually(async () => (await state()).state === 'running', 30_000, 'the cluster to run');
  });
  after(async () => r?.stop());

  it('refuses a file that changes nothing it rolls, or more than it rolls, changing nothing', async () => {
    const same = await r.api<Err>('POST', '/api/v1/clusters/ops/reconfigure', {
      cluster: clusterYaml('ops', { net: '10.41' }),
    });
    assert.equal(same.status, 400);
    assert.match(same.body.message, /^spec\.apiServer: nothing to roll/);
    const more = await r.api<Err>('POST', '/api/v1/clusters/ops/reconfigure', {
      cluster: withFlag({ 'max-requests-inflight': '411' }).replace('count: 2', 'count: 3'),
    });
    assert.equal(more.status, 400);
    assert.match(more.body.message, /^spec\.workers: changed: a reconfigure rolls only spec\.apiServer/);
    assert.deepEqual(await ops(), []);
    assert.equal((await state()).state, 'running');
  });

  it('rolls a kube-apiserver flag: one operation at a time (409 naming it), paused and resumed, every node done', async () => {
    setReady('w-1', false); // the first worker batch waits for Ready: the roll holds there
    const file = withFlag({ 'max-requests-inflight': '411' });
    const start = await r.api<Op>('POST', '/api/v1/clusters/ops/reconfigure', { cluster: file });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    assert.deepEqual(start.body.params.changes, [{ flag: 'max-requests-inflight', from: null, to: '411' }]);
    const id = start.body.id;
    assert.equal((await state()).state, 'updating');
    await eventually(
      async () => (await ops())[0].progress.nodes.find((n) => n.hostname === 'w-1')?.step === 'uncordoned',
      15_000,
      'w-1 drained and uncordoned',
    );
    const second = await r.api<Err>('POST', '/api/v1/clusters/ops/reconfigure', {
      cluster: withFlag({ 'max-requests-inflight': '412' }),
    });
    assert.equal(second.status, 409);
    assert.equal(second.body.code, 'INGOT_OPERATION_RUNNING');
    assert.equal(second.body.details.operation, id);
    const cli = await runIngot(['cluster', 'pause', 'ops'], { env: r.cliEnv });
    assert.equal(cli.code, 0, cli.err);
    assert.match(cli.out, new RegExp(`${id} reconfigure paused: paused by `));
    setReady('w-1', true);
    const resumeTwice = await r.api<Err>('POST', '/api/v1/clusters/ops/operations/active/pause', {});
    assert.equal(resumeTwice.status, 409);
    assert.match(resumeTwice.body.message, /allowed: resume, abort/);
    // Paused: w-1 is Ready now, but the roll does not move on.
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await ops())[0].progress.nodes.find((n) => n.hostname === 'w-1')?.state, 'running');
    assert.equal((await r.api('POST', '/api/v1/clusters/ops/operations/active/resume', {})).status, 200);
    await eventually(
      async () => (await ops())[0].state === 'succeeded',
      15_000,
      'the reconfigure to succeed',
    );
    const op = (await ops())[0];
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['cp-1', 'done', 'healthy'],
        ['w-1', 'done', 'ready'],
        ['w-2', 'done', 'ready'],
      ],
    );
    assert.equal(op.progress.snapshot.state, 'skipped', 'no shell on simulated nodes: said so');
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
    assert.match((await state()).clusterFile, /max-requests-inflight: "411"/);
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
    ).body;
    const msgs = ev.filter((e) => e.type.startsWith('cluster.operation')).map((e) => e.message);
    assert.ok(
      msgs.some((m) => /^cp-1: kube-apiserver manifest regenerated/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(msgs.some((m) => /^w-1: drained: /.test(m)));
    assert.ok(msgs.some((m) => / paused by /.test(m)));
    // Workers one at a time: w-1 was Ready before w-2 was drained.
    const i1 = msgs.indexOf('w-1: done: Ready');
    const i2 = msgs.findIndex((m) => /^w-2: cordoning/.test(m));
    assert.ok(i1 >= 0 && i2 > i1, msgs.join('\n'));
    const list = await runIngot(['cluster', 'operations', 'ops'], { env: r.cliEnv });
    assert.match(list.out, /reconfigure succeeded: every node done \[--max-requests-inflight=411\]/);
    assert.match(list.out, /w-2 \(worker\): done, ready/);
  });

  it('says on the node why its drain waits, then halts at the first failure with the node and the reason, and the cluster says so', async () => {
    kube.blockedByPdb.set('w-1', 'default/web');
    // The PDB holds the drain: while it waits, the node's line says why.
    kube.blockWaits = true;
    try {
      const start = await r.api<Op>('POST', '/api/v1/clusters/ops/reconfigure', {
        cluster: withFlag({ 'max-requests-inflight': '500' }),
      });
      assert.equal(start.status, 202);
      const waiting = await eventually(
        async () => {
          const w1 = (await ops())[0].progress.nodes.find((n) => n.hostname === 'w-1');
          return w1?.message ? w1 : null;
        },
        15_000,
        "w-1's drain waiting",
      );
      assert.equal(waiting.state, 'running');
      assert.equal(waiting.message, 'drain waits: blocked by PDB default/web (pod default/web-0)');
      const said = (
        await r.api<{ type: string; level: string; message: string }[]>(
          'GET',
          '/api/v1/clusters/ops/events?limit=1000',
        )
      ).body.filter((e) => e.message === 'w-1: drain waits: blocked by PDB default/web (pod default/web-0)');
      assert.deepEqual(
        said.map((e) => [e.type, e.level]),
        [['cluster.operation.node', 'warning']],
        'once on the timeline',
      );
      const listed = await runIngot(['cluster', 'operations', 'ops'], { env: r.cliEnv });
      assert.match(listed.out, /w-1 \(worker\): running.*drain waits: blocked by PDB default\/web/);
      kube.blockWaits = false;
      await eventually(async () => (await ops())[0].state === 'failed', 15_000, 'the halt');
      const op = (await ops())[0];
      assert.match(op.reason, /^halted: w-1: drain w-1: pod default\/web-0 blocked by PDB default\/web/);
      assert.equal(
        op.progress.nodes.find((n) => n.hostname === 'w-2')?.state,
        'pending',
        'nothing after the failure',
      );
      await eventually(async () => (await state()).state === 'failed_updating', 10_000, 'failed_updating');
    } finally {
      kube.blockWaits = false;
      kube.blockedByPdb.delete('w-1');
    }
  });

  it('retries the halted reconfigure as itself, from the node it stopped on, once the PDB allows', async () => {
    const before = (await ops())[0];
    assert.equal(before.state, 'failed');
    const cp = before.progress.nodes.find((n) => n.hostname === 'cp-1') as { endedAt?: string };
    const retry = await runIngot(['cluster', 'retry', 'ops'], { env: r.cliEnv });
    assert.equal(retry.code, 0, retry.err);
    await eventually(
      async () => (await ops())[0].state === 'succeeded',
      15_000,
      'the retried roll to succeed',
    );
    const all = await ops();
    const op = all[0] as Op & { jobId: string };
    assert.equal(op.id, before.id, 'the same operation, not a new one');
    assert.equal(all.filter((o) => o.id === before.id).length, 1);
    const after = op.progress.nodes.find((n) => n.hostname === 'cp-1') as { endedAt?: string };
    assert.equal(after.endedAt, cp.endedAt, 'the control plane done before the halt is not rolled again');
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['cp-1', 'done', 'healthy'],
        ['w-1', 'done', 'ready'],
        ['w-2', 'done', 'ready'],
      ],
    );
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
    assert.match((await state()).clusterFile, /max-requests-inflight: "500"/);
    assert.notEqual(op.jobId, (before as Op & { jobId: string }).jobId, 'a new job for the retry');
    const job = (await r.api<{ kind: string; status: string }>('GET', `/api/v1/jobs/${op.jobId}`)).body;
    assert.equal(job.kind, 'cluster-operation', 'a retried operation never runs the scale workflow');
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
    ).body;
    assert.ok(
      ev.some((e) => e.type === 'cluster.operation.retried' && /resuming at w-1/.test(e.message)),
      ev.map((e) => e.message).join('\n'),
    );
  });

  it('aborts a paused operation: the batch it was in is uncordoned and the cluster runs', async () => {
    setReady('w-1', false);
    const start = await r.api<Op>('POST', '/api/v1/clusters/ops/reconfigure', {
      cluster: withFlag({ 'max-requests-inflight': '600' }),
    });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    await eventually(
      async () => (await ops())[0].progress.nodes.find((n) => n.hostname === 'w-1')?.step === 'uncordoned',
      15_000,
      'w-1 uncordoned',
    );
    assert.equal((await r.api('POST', '/api/v1/clusters/ops/operations/active/pause', {})).status, 200);
    const abort = await runIngot(['cluster', 'abort', 'ops'], { env: r.cliEnv });
    assert.equal(abort.code, 0, abort.err);
    await eventually(async () => (await state()).state === 'running', 10_000, 'running after the abort');
    assert.equal((await ops())[0].state, 'aborted');
    assert.equal(kube.cordoned.has('w-1'), false);
    assert.doesNotMatch(
      (await state()).clusterFile,
      /600/,
      'an aborted reconfigure keeps the old Cluster file',
    );
    const again = await runIngot(['cluster', 'resume', 'ops'], { env: r.cliEnv });
    assert.equal(again.code, 4, 'nothing to resume: the last one ended');
    setReady('w-1', true);
  });

  it('rotates the certificates of the control planes only, one at a time, keeping the Cluster file', async () => {
    const file = (await state()).clusterFile;
    const messages = async () =>
      (
        await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
      ).body.map((e) => e.message);
    const drains = (ms: string[]) => ms.filter((m) => /^w-\d: cordoning/.test(m)).length;
    const drainedBefore = drains(await messages());
    const start = await runIngot(['cluster', 'rotate-certs', 'ops'], { env: r.cliEnv });
    assert.equal(start.code, 0, start.err);
    assert.match(start.out, /cert-rotate running: certificate rotation requested by /);
    await eventually(async () => (await ops())[0].state === 'succeeded', 15_000, 'the rotation to succeed');
    const op = (await ops())[0] as Op & { kind: string };
    assert.equal(op.kind, 'cert-rotate');
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['cp-1', 'done', 'healthy']],
      'workers are not touched: their kubelets rotate their own certificates',
    );
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
    assert.equal((await state()).clusterFile, file);
    const ev = await messages();
    assert.ok(ev.some((m) => /^cp-1: certificates renewed \(kubeadm certs renew all\)/.test(m)));
    assert.equal(drains(ev), drainedBefore, 'no worker drained by the rotation');
  });

  it('refuses an upgrade the version-skew rules forbid, naming each broken rule, changing nothing', async () => {
    const count = (await ops()).length;
    const skip = await r.api<Err>('POST', '/api/v1/clusters/ops/upgrade', { version: 'v1.22.0' });
    assert.equal(skip.status, 400);
    assert.match(skip.body.message, /^version: cannot upgrade cluster ops to v1\.22\.0:/);
    assert.match(skip.body.message, /skips a minor: .*upgrade one minor at a time \(to v1\.21\.x first\)/);
    const down = await r.api<Err>('POST', '/api/v1/clusters/ops/upgrade', { version: 'v1.19.9' });
    assert.equal(down.status, 400);
    assert.match(down.body.message, /downgrades are not supported/);
    kube.kubeletVersions.set('w-2', 'v1.21.0');
    try {
      const newer = await runIngot(['cluster', 'upgrade', 'ops', '--to', 'v1.21.0'], { env: r.cliEnv });
      assert.equal(newer.code, 2, newer.err);
      assert.match(newer.err, /w-2's kubelet v1\.21\.0 is newer than .*API server v1\.20\.2/);
    } finally {
      kube.kubeletVersions.delete('w-2');
    }
    assert.equal((await ops()).length, count, 'no operation recorded');
    assert.equal((await state()).state, 'running');
  });

  it('upgrades to the same version: control planes through kubeadm, workers drained, upgraded, uncordoned and Ready one batch at a time', async () => {
    // Recorded at create from the Cluster file; the simulated cluster's API servers say v1.20.2.
    assert.equal((await state()).version, 'v1.30.2');
    const start = await runIngot(['cluster', 'upgrade', 'ops', '--to', 'v1.20.2'], { env: r.cliEnv });
    assert.equal(start.code, 0, start.err);
    assert.match(
      start.out,
      /upgrade running: upgrade from v1\.20\.2 to v1\.20\.2 requested by .*\[to v1\.20\.2\]/,
    );
    await eventually(async () => (await ops())[0].state === 'succeeded', 20_000, 'the upgrade to succeed');
    const op = (await ops())[0] as Op & { kind: string };
    assert.equal(op.kind, 'upgrade');
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['cp-1', 'done', 'healthy'],
        ['w-1', 'done', 'ready'],
        ['w-2', 'done', 'ready'],
      ],
    );
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
    ).body.map((e) => e.message);
    const at = (re: RegExp) => ev.findLastIndex((m) => re.test(m));
    assert.ok(at(/^cp-1: kubeadm upgrade apply done/) >= 0, ev.join('\n'));
    // The control plane is drained before its kubelet restarts and uncordoned once the API answers.
    assert.ok(
      at(/^cp-1: drained: /) >= 0 && at(/^cp-1: drained: /) < at(/^cp-1: kubeadm upgrade apply done/),
    );
    assert.ok(at(/^cp-1: kubeadm upgrade apply done/) < at(/^cp-1: done: the API answers, uncordoned/));
    assert.ok(at(/^cp-1: done: the API answers, uncordoned/) < at(/^w-1: cordoning/));
    for (const w of ['w-1', 'w-2']) {
      assert.ok(at(new RegExp(`^${w}: drained`)) < at(new RegExp(`^${w}: upgraded to v1\\.20\\.2`)));
      assert.ok(at(new RegExp(`^${w}: upgraded to`)) < at(new RegExp(`^${w}: uncordoned`)));
    }
    assert.ok(at(/^w-1: done: Ready/) < at(/^w-2: cordoning/), 'one batch at a time');
    assert.equal(kube.cordoned.has('cp-1'), false, 'the control plane uncordoned');
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
    assert.match((await state()).clusterFile, /version: v1\.20\.2/);
    assert.equal((await state()).version, 'v1.20.2', "the cluster's version column is the target's");
  });

  it('refuses an OS replacement of the control plane of a 1-control-plane cluster, of an unknown node or with an image that is not ready, changing nothing', async () => {
    const count = (await ops()).length;
    const cp = await r.api<Err>('POST', '/api/v1/clusters/ops/os-replace', {
      image: 'kubernetes-node',
      nodes: ['w-1', 'cp-1'],
    });
    assert.equal(cp.status, 400);
    assert.match(
      cp.body.message,
      /^nodes\[1\]: cp-1 is a control plane and cannot be replaced: the cluster has 1 control plane\(s\): removing one's etcd member .* loses etcd's quorum/,
    );
    const who = await r.api<Err>('POST', '/api/v1/clusters/ops/os-replace', {
      image: 'kubernetes-node',
      nodes: ['w-9'],
    });
    assert.equal(who.status, 400);
    assert.match(who.body.message, /^nodes\[0\]: w-9 is not a node of cluster ops/);
    const img = await runIngot(['cluster', 'os-replace', 'ops', '--image', 'no-such-image'], {
      env: r.cliEnv,
    });
    assert.equal(img.code, 2, img.err);
    assert.match(img.err, /image: no OS image "no-such-image" in this region/);
    assert.equal((await ops()).length, count, 'no operation recorded');
    assert.equal((await state()).state, 'running');
  });

  it("replaces the workers' OS one at a time: drained, Node deleted, redeployed with the image, rejoined with a fresh token, uncordoned, Ready; paused and resumed", async () => {
    await r.region.store.createImage({ ...NODE_IMAGE, name: 'kubernetes-node-2' }, 'user:test');
    const machines = (
      await r.api<{ cluster: { members: { hostname: string; machineId: string }[] } }>(
        'GET',
        '/api/v1/clusters/ops',
      )
    ).body.cluster.members;
    const idOf = (h: string) => machines.find((m) => m.hostname === h)!.machineId;
    kube.notReady.add('w-1'); // w-1 rejoins NotReady: the roll holds at its Ready wait
    const start = await runIngot(['cluster', 'os-replace', 'ops', '--image', 'kubernetes-node-2'], {
      env: r.cliEnv,
    });
    assert.equal(start.code, 0, start.err);
    assert.match(
      start.out,
      /os-replace running: OS replacement with image kubernetes-node-2 requested by .*: w-1, w-2 \[image kubernetes-node-2\]/,
    );
    await eventually(
      async () => (await ops())[0].progress.nodes.find((n) => n.hostname === 'w-1')?.step === 'uncordoned',
      30_000,
      'w-1 redeployed, rejoined and uncordoned',
    );
    assert.equal((await r.api('POST', '/api/v1/clusters/ops/operations/active/pause', {})).status, 200);
    kube.notReady.delete('w-1');
    setReady('w-1', true);
    // An hour later, as it were: the operation's join token expired on the control plane.
    const tokens = [...kube.joinTokens.values()].flatMap((m) => [...m.keys()].map((t) => ({ m, t })));
    assert.ok(tokens.length > 0, "w-1's join made sure of the operation's token");
    for (const { m, t } of tokens) m.set(t, Date.now() - 1000);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(
      (await ops())[0].progress.nodes.find((n) => n.hostname === 'w-2')?.state,
      'pending',
      'paused: the next batch waits',
    );
    assert.equal((await r.api('POST', '/api/v1/clusters/ops/operations/active/resume', {})).status, 200);
    await eventually(
      async () => (await ops())[0].state === 'succeeded',
      30_000,
      'the OS replacement to succeed',
    );
    const op = (await ops())[0] as Op & { kind: string; params: { image?: string } };
    assert.equal(op.kind, 'os-replace');
    assert.equal(op.params.image, 'kubernetes-node-2');
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [
        ['w-1', 'done', 'ready'],
        ['w-2', 'done', 'ready'],
      ],
      'the workers only: control planes are not replaced',
    );
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
    for (const w of ['w-1', 'w-2']) {
      const deploys = (await r.region.store.listJobs({ machineId: idOf(w) }, 50)).filter(
        (j) => j.kind === 'deploy',
      );
      assert.equal(deploys[0].params.image, 'kubernetes-node-2', `${w}'s newest deploy writes the new image`);
      assert.match(deploys[0].actor, /^cluster:ops:/);
      const m = (await r.api<{ state: string; owner: string }>('GET', `/api/v1/machines/${idOf(w)}`)).body;
      assert.deepEqual([m.state, m.owner], ['deployed', 'cluster:ops']);
    }
    const ev = (
      await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
    ).body.map((e) => e.message);
    const at = (re: RegExp) => ev.findLastIndex((m) => re.test(m));
    for (const w of ['w-1', 'w-2']) {
      const order = [
        new RegExp(`^${w}: drained`),
        new RegExp(`^${w}: Node deleted; redeploy with image kubernetes-node-2 started`),
        new RegExp(`^${w}: redeployed with image kubernetes-node-2`),
        new RegExp(`^${w}: joined again: .*kubeadm-join-done`),
        new RegExp(`^${w}: uncordoned`),
        new RegExp(`^${w}: done: Ready`),
      ].map(at);
      assert.ok(
        order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
        `${w}: ${order}\n${ev.join('\n')}`,
      );
    }
    assert.ok(at(/^w-1: done: Ready/) < at(/^w-2: cordoning/), 'one batch at a time');
    // The expired token re-made (same token, fresh expiry) before w-2's join, not before w-1's.
    const renewed = at(/^w-2: the operation's join token had less than 15 min left: re-created for 60 min/);
    assert.ok(renewed >= 0 && renewed < at(/^w-2: joined again/), ev.join('\n'));
    assert.equal(at(/^w-1: the operation's join token/), -1);
    assert.ok(
      tokens.some(({ m, t }) => m.get(t)! > Date.now() + 30 * 60_000),
      "the operation's token has a fresh expiry",
    );
    const list = await runIngot(['cluster', 'operations', 'ops'], { env: r.cliEnv });
    assert.match(list.out, /os-replace succeeded: every node done \[image kubernetes-node-2\]/);
  });

  it('redeploys a batch of two side by side with --max-unavailable 2', async () => {
    const seen = (await r.api<{ message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')).body
      .length;
    const start = await runIngot(
      ['cluster', 'os-replace', 'ops', '--image', 'kubernetes-node', '--max-unavailable', '2'],
      { env: r.cliEnv },
    );
    assert.equal(start.code, 0, start.err);
    await eventually(
      async () => (await ops())[0].state === 'succeeded',
      30_000,
      'the OS replacement to succeed',
    );
    const ev = (await r.api<{ message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')).body
      .slice(seen)
      .map((e) => e.message);
    const started = ev
      .map((m, i) => (/: Node deleted; redeploy with image/.test(m) ? i : -1))
      .filter((i) => i >= 0);
    const done = ev.findIndex((m) => /: redeployed with image/.test(m));
    assert.equal(started.length, 2, ev.join('\n'));
    assert.ok(started[1] < done, `both redeploys started before either ended:\n${ev.join('\n')}`);
    await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
  });

  it("reprovisions a dead worker without draining it, and a reprovision's halt gives the cluster back running", async () => {
    // The remediation's reprovision: the same operation over one dead node (remediation-loop.ts).
    kube.blockedByPdb.set('w-2', 'default/web'); // a drain would halt: a dead node is not drained
    try {
      const { operation } = await startOsReplace(r.region.store, 'ops', {
        image: 'kubernetes-node',
        nodes: ['w-2'],
        dead: ['w-2'],
        abortOnHalt: true,
        actor: 'remediator',
      });
      await eventually(
        async () => (await ops())[0].state === 'succeeded',
        30_000,
        'the reprovision to succeed',
      );
      await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster running again');
      const ev = (
        await r.api<{ type: string; message: string }[]>('GET', '/api/v1/clusters/ops/events?limit=1000')
      ).body.filter((e) => (e as { data?: { operation?: string } }).data?.operation === operation.id);
      const msgs = ev.map((e) => e.message);
      assert.ok(msgs.includes('w-2: not drained: fenced, its Node deleted already'), msgs.join('\n'));
      assert.ok(msgs.some((m) => /^w-2: joined again/.test(m)));
      assert.ok(!msgs.some((m) => /^w-2: drained/.test(m)));
    } finally {
      kube.blockedByPdb.delete('w-2');
    }
    // A halt (its machine not deployed) ends it aborted, the cluster running: the ladder goes on.
    const cluster = (
      await r.api<{ cluster: { members: { hostname: string; machineId: string }[] } }>(
        'GET',
        '/api/v1/clusters/ops',
      )
    ).body.cluster;
    const w2 = cluster.members.find((m) => m.hostname === 'w-2')!.machineId;
    const store = r.region.store;
    await store.transition({
      machineId: w2,
      from: 'deployed',
      to: 'broken',
      reason: 'test: dead PSU',
      actor: 'user:test',
    });
    try {
      await startOsReplace(store, 'ops', {
        image: 'kubernetes-node',
        nodes: ['w-2'],
        dead: ['w-2'],
        abortOnHalt: true,
        actor: 'remediator',
      });
      await eventually(async () => (await ops())[0].state === 'aborted', 15_000, 'the halt');
      assert.match((await ops())[0].reason, /^halted: w-2: its machine is broken, not deployed/);
      await eventually(async () => (await state()).state === 'running', 10_000, 'the cluster given back');
    } finally {
      await store.transition({
        machineId: w2,
        from: 'broken',
        to: 'deployed',
        reason: 'test',
        actor: 'user:test',
      });
    }
  });
});
