/**
 * An OS replacement of control planes on a simulated cluster of 3 control planes and 2 workers
 * (fake:// members, the in-memory Kubernetes, the simulated node agents): the commands the
 * region runs on the nodes (etcdctl, kubeadm upload-certs and token create, the join config
 * written) go to a fake stacked etcd (test/support/fake-etcd.ts) standing in for the node
 * agents' shell; a control plane whose join config was written becomes a started member again
 * once its (simulated) kubeadm join registered its Node. The real peer of the member swap:
 * test/testbed.test.ts's HA suite (the remediation's spare); no real bed runs this roll yet.
 *
 * - the roll: the etcd snapshot first, control planes one at a time, each quorum-checked,
 *   drained, its member removed, redeployed, joined with fresh credentials, member healthy and
 *   Ready, uncordoned; then the workers; the credentials on no event and in no progress;
 * - a second operation refused while it runs (409);
 * - the quorum lost mid-roll: halted on the next control plane with the reason, nothing changed
 *   on it; retried once the member is back, it finishes;
 * - region A dies in the middle of a member remove (applied on etcd, never answered); region B
 *   takes the job over and does not remove a member twice;
 * - the remediation's reprovision of a dead control plane (the init node): not drained, the
 *   snapshot from a live control plane, its member removed, rejoined.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NodeShell } from '../src/kube/etcd/shell.ts';
import { startOsReplace } from '../src/engine/cluster/operation-os-replace.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { clusterYaml, nodeSubnet, seedClusterRegion } from './support/cluster-seed.ts';
import {
  createdCaHash,
  deadRegionHang,
  FAKE_JOIN_TOKEN,
  fakeEtcd,
  shellRegionOptions,
} from './support/fake-etcd.ts';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';

const NET = '10.63';
const CPS = ['cp-1', 'cp-2', 'cp-3'];
const FILE = clusterYaml('osr', { net: NET }).replace('count: 1', 'count: 3');

interface Op {
  id: string;
  state: string;
  reason: string;
  progress: {
    snapshot: { state: string; id?: string };
    nodes: { hostname: string; state: string; step: string | null; message: string | null }[];
  };
}
interface Ev {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

describe('OS replacement of control planes (3 control planes, stacked etcd, simulated)', {
  timeout: 240_000,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-osr-cp-'));
  const kube = new FakeKube();
  const etcd = fakeEtcd(CPS);
  let caHash = '';
  /** Certificate keys the control planes uploaded the certificates with. */
  const certKeys: string[] = [];
  /** `etcdctl member remove` applied, by the member's name. */
  const removed: string[] = [];
  /** Join configs written, by node. */
  const configs = new Map<string, string>();
  const joining = new Set<string>();
  /** Called when a member joins again (the test's hook). */
  let onJoin: (node: string) => void = () => {};
  /** `etcdctl member remove` answered but not applied (a member left behind, as by hand). */
  let keepMembers = false;
  /** A region's shell: `hang(argv)` true → that call is applied and never answers (the region died). */
  let hangOn: ((node: string, argv: readonly string[]) => boolean) | null = null;
  const { bury, buried, registered } = deadRegionHang(kube);
  let a: TestRegion;
  let b: TestRegion | undefined;

  const sync = () => {
    for (const n of joining)
      if (registered(n)) {
        joining.delete(n);
        etcd.members.push({ id: `b${removed.length}${n.slice(-1)}`, name: n, started: true });
        onJoin(n);
      }
  };
  const shell: NodeShell = {
    async exec(node, argv) {
      sync();
      // A dead node answers nothing (its agent never picks the command up).
      if (!etcd.up.has(node)) throw new Error(`${node}: its node agent does not answer`);
      const words = argv.filter((x) => !x.startsWith('--'));
      if (words.includes('snapshot') && words.includes('save')) return '';
      if (words.includes('snapshot') && words.includes('status'))
        return JSON.stringify({ hash: 1, revision: 42, totalKey: 7 });
      if (argv[0] === 'rm') return '';
      if (argv[0] === 'kubeadm' && argv[1] === 'init')
        certKeys.push(argv[argv.indexOf('--certificate-key') + 1]);
      if (argv[0] === 'kubeadm' && argv[1] === 'token') {
        await etcd.shell.exec(node, argv);
        return `kubeadm join ${NET}.0.10:6443 --token ${FAKE_JOIN_TOKEN} --discovery-token-ca-cert-hash ${caHash}\n`;
      }
      if (words.includes('remove')) {
        const id = words.at(-1)!;
        const m = etcd.members.find((x) => x.id === id);
        assert.ok(m, `member ${id} removed twice (or never was): ${etcd.members.map((x) => x.id)}`);
        removed.push(m.name);
        if (keepMembers) return '';
      }
      const out = await etcd.shell.exec(node, argv);
      // The region died here: the call never answers (until buried, so its engine can stop).
      if (hangOn?.(node, argv)) await buried;
      return out;
    },
    readFile: async () => Buffer.from('snapshot bytes'),
    async writeFile(node, path, data) {
      configs.set(`${node}:${path}`, data.toString());
      joining.add(node);
    },
  };
  const opts = () => shellRegionOptions(dataDir, kube, shell);
  const api = () => b ?? a;
  const ops = async () => (await api().api<Op[]>('GET', '/api/v1/clusters/osr/operations')).body;
  const events = async () => (await api().api<Ev[]>('GET', '/api/v1/clusters/osr/events?limit=1000')).body;
  const state = async () =>
    (await api().api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/osr')).body.cluster.state;
  const ended = async (id: string, ms = 60_000) =>
    eventually(
      async () => {
        const o = (await ops()).find((x) => x.id === id)!;
        return o.state !== 'running' ? o : null;
      },
      ms,
      `operation ${id} to end`,
    );

  before(async () => {
    a = await startTestRegion(opts());
    await seedClusterRegion(a, NET, [
      ['cp-1', 'control'],
      ['cp-2', 'control'],
      ['cp-3', 'control'],
      ['w-1', 'general'],
      ['w-2', 'general'],
    ]);
    assert.equal((await a.api('POST', '/api/v1/clusters', { cluster: FILE })).status, 202);
    await eventually(async () => (await state()) === 'running', 60_000, 'the cluster to run');
    caHash = await createdCaHash(a.region.store);
  });
  after(async () => {
    bury();
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('replaces the control planes one at a time (snapshot first, quorum, drain, member remove, redeploy, join --control-plane with fresh credentials, healthy, Ready), then the workers; a second operation is refused; no credential on the timeline', async () => {
    const start = await a.api<Op>('POST', '/api/v1/clusters/osr/os-replace', {
      image: 'kubernetes-node',
      nodes: ['w-1', 'cp-2', 'cp-1', 'w-2', 'cp-3'],
    });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const again = await a.api<{ code: string; message: string }>('POST', '/api/v1/clusters/osr/os-replace', {
      image: 'kubernetes-node',
      nodes: ['cp-1'],
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'INGOT_OPERATION_RUNNING');
    const op = await ended(start.body.id, 120_000);
    assert.equal(op.state, 'succeeded', op.reason);
    assert.equal(op.progress.snapshot.state, 'done');
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [...CPS, 'w-1', 'w-2'].map((h) => [h, 'done', 'ready']),
    );
    assert.deepEqual(removed, CPS, 'each member removed once, in order');
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), CPS, 'three members again');
    await eventually(async () => (await state()) === 'running', 10_000, 'the cluster running again');
    const all = await events();
    const ev = all.filter((e) => e.data.operation === op.id).map((e) => e.message);
    const at = (re: RegExp) => ev.findIndex((m) => re.test(m));
    const snap = at(/^cp-1: etcd snapshot etcd-.* taken/);
    assert.ok(snap >= 0, ev.join('\n'));
    let prev = snap;
    for (const h of CPS) {
      const order = [
        new RegExp(`^${h}: OS replacement with image kubernetes-node started`),
        new RegExp(
          `^${h}: quorum kept \\(2 other etcd member\\(s\\) answer .* of 3; without ${h}: 2 of 2.*quorum 2\\)\\); drained`,
        ),
        new RegExp(`^${h}: etcd member a\\d removed through cp-`),
        new RegExp(`^${h}: Node deleted; redeploy with image kubernetes-node started`),
        new RegExp(`^${h}: redeployed with image kubernetes-node`),
        new RegExp(
          `^${h}: kubeadm join ${NET}\\.0\\.10:6443 --control-plane asked, with a new certificate key`,
        ),
        new RegExp(`^${h}: joined again as a control plane: .*kubeadm-join-done`),
        new RegExp(`^${h}: done: etcd member b\\w+ started and healthy, Node Ready, uncordoned`),
      ].map(at);
      assert.ok(
        order.every((i, k) => i > (k === 0 ? prev : order[k - 1])),
        `${h}: ${order} after ${prev}\n${ev.join('\n')}`,
      );
      prev = order.at(-1)!;
    }
    assert.ok(at(/^w-1: cordoning and draining/) > prev, 'the workers after every control plane');
    assert.ok(at(/^w-2: done: Ready/) > at(/^w-1: done: Ready/));
    // Each join with its own credentials, made on a healthy control plane; none on the timeline
    // or in the progress.
    assert.equal(certKeys.length, 3);
    assert.equal(new Set(certKeys).size, 3);
    for (const [i, h] of CPS.entries()) {
      const cfg = configs.get(`${h}:/etc/kubernetes/ingot/kubeadm.yaml`) ?? '';
      assert.match(cfg, /kind: JoinConfiguration/);
      assert.ok(cfg.includes(`certificateKey: ${certKeys[i]}`), cfg);
      assert.ok(cfg.includes(FAKE_JOIN_TOKEN));
    }
    const said = JSON.stringify(all) + JSON.stringify(await ops());
    for (const secret of [FAKE_JOIN_TOKEN, ...certKeys]) assert.ok(!said.includes(secret), secret);
  });

  it('halts on the next control plane when the quorum is lost mid-roll, changing nothing there; a retry once it is back finishes', async () => {
    removed.length = 0;
    // cp-3's member stops answering as soon as cp-1 has joined again.
    onJoin = (n) => {
      if (n === 'cp-1') etcd.up.delete('cp-3');
    };
    const start = await a.api<Op>('POST', '/api/v1/clusters/osr/os-replace', {
      image: 'kubernetes-node',
      nodes: ['cp-1', 'cp-2'],
    });
    assert.equal(start.status, 202);
    const op = await ended(start.body.id);
    assert.equal(op.state, 'failed');
    assert.match(
      op.reason,
      /^halted: cp-2: refused: the other members answering are 1 \(cp-1\); with cp-2 away and rejoining, 3 members of which 1 healthy .*a quorum is 2/,
    );
    const cp2 = op.progress.nodes.find((n) => n.hostname === 'cp-2')!;
    assert.deepEqual([cp2.state, cp2.step], ['failed', null]);
    assert.match(cp2.message ?? '', /refused: .*uncordoned, nothing changed/);
    assert.deepEqual(removed, ['cp-1'], "cp-2's member is not removed");
    assert.ok(etcd.members.some((m) => m.name === 'cp-2'));
    assert.equal(await state(), 'failed_updating');
    onJoin = () => {};
    etcd.up.add('cp-3');
    assert.equal((await a.api('POST', '/api/v1/clusters/osr/actions/retry', {})).status, 202);
    const done = await ended(start.body.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.deepEqual(removed, ['cp-1', 'cp-2']);
    await eventually(async () => (await state()) === 'running', 10_000, 'the cluster running again');
  });

  it('does not remove a member twice when the region dies in the middle of its remove: another region takes over', async () => {
    removed.length = 0;
    let died: () => void = () => {};
    const dead = new Promise<void>((r) => {
      died = r;
    });
    hangOn = (_node, argv) => {
      if (!argv.includes('remove') || removed.at(-1) !== 'cp-2') return false;
      died();
      return true;
    };
    const start = await a.api<Op>('POST', '/api/v1/clusters/osr/os-replace', {
      image: 'kubernetes-node',
      nodes: ['cp-2'],
    });
    assert.equal(start.status, 202);
    await dead;
    hangOn = null;
    const halted = a.region.engine.worker.halt();
    const mid = (await ops()).find((o) => o.id === start.body.id)!;
    assert.equal(mid.progress.nodes[0].step, 'drained', 'the remove was not recorded');
    assert.ok(!etcd.members.some((m) => m.name === 'cp-2'), 'but applied on etcd');
    b = await startTestRegion(opts());
    const op = await ended(start.body.id, 60_000);
    assert.equal(op.state, 'succeeded', op.reason);
    assert.deepEqual(removed, ['cp-2'], 'removed once');
    const ev = (await events()).filter((e) => e.data.operation === op.id).map((e) => e.message);
    assert.ok(
      ev.some((m) => /^cp-2: no etcd member any more \(removed before: not removed twice\)/.test(m)),
      ev.join('\n'),
    );
    assert.ok(etcd.members.some((m) => m.name === 'cp-2' && m.started));
    void halted;
  });

  it("reprovisions a dead control plane (the remediation's rung): not drained, no command to it until redeployed, its member removed through a live one, rejoined", async () => {
    removed.length = 0;
    // cp-1 (the init node) is dead: its shell and its etcd member answer nothing until its
    // redeploy joined it again.
    etcd.up.delete('cp-1');
    onJoin = (n) => {
      if (n === 'cp-1') etcd.up.add('cp-1');
    };
    const store = api().region.store;
    const cluster = await store.getCluster('osr');
    const { operation } = await startOsReplace(store, cluster.id, {
      image: 'kubernetes-node',
      nodes: ['cp-1'],
      dead: ['cp-1'],
      abortOnHalt: true,
      actor: 'remediator',
    });
    const op = await ended(operation.id, 60_000);
    onJoin = () => {};
    assert.equal(op.state, 'succeeded', op.reason);
    assert.deepEqual(
      op.progress.nodes.map((n) => [n.hostname, n.state, n.step]),
      [['cp-1', 'done', 'ready']],
    );
    assert.deepEqual(removed, ['cp-1'], 'its member removed once');
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), CPS, 'three members again');
    // The snapshot from a live control plane, never the dead one (its join token's source:
    // scale-steps.test.ts).
    const full = await store.getOperation(operation.id);
    assert.equal(full.progress.snapshot.state, 'done');
    assert.equal(full.progress.snapshot.node, 'cp-2', 'the first live control plane');
    const ev = (await events()).filter((e) => e.data.operation === op.id).map((e) => e.message);
    assert.ok(
      ev.some((m) => /^cp-1: quorum kept .*; not drained: dead, fenced/.test(m)),
      ev.join('\n'),
    );
    assert.ok(!ev.some((m) => /^cp-1: cordoning and draining/.test(m)), 'a dead node is not drained');
    assert.ok(ev.some((m) => /^cp-1: done: etcd member b\w+ started and healthy, Node Ready/.test(m)));
    await eventually(async () => (await state()) === 'running', 10_000, 'the cluster running again');
  });

  it('says on a control plane why its drain waits (blocked by PDB ns/name), once on the timeline, and clears it when the drain gets through', async () => {
    removed.length = 0;
    kube.blockedByPdb.set('cp-3', 'default/web');
    kube.blockWaits = true;
    try {
      const start = await a.api<Op>('POST', '/api/v1/clusters/osr/os-replace', {
        image: 'kubernetes-node',
        nodes: ['cp-3'],
      });
      assert.equal(start.status, 202);
      const waiting = await eventually(
        async () => {
          const n = (await ops()).find((o) => o.id === start.body.id)!.progress.nodes[0];
          return n.message?.startsWith('drain waits') ? n : null;
        },
        15_000,
        "cp-3's drain waiting",
      );
      assert.equal(waiting.message, 'drain waits: blocked by PDB default/web (pod default/web-0)');
      kube.blockedByPdb.delete('cp-3');
      const op = await ended(start.body.id);
      assert.equal(op.state, 'succeeded', op.reason);
      assert.doesNotMatch(op.progress.nodes[0].message ?? '', /drain waits/, 'cleared');
      const said = (await events()).filter(
        (e) =>
          e.data.operation === op.id && /^cp-3: drain waits: blocked by PDB default\/web/.test(e.message),
      );
      assert.equal(said.length, 1, 'once on the timeline');
      assert.deepEqual(removed, ['cp-3']);
    } finally {
      kube.blockWaits = false;
      kube.blockedByPdb.delete('cp-3');
    }
    await eventually(async () => (await state()) === 'running', 10_000, 'the cluster running again');
  });

  it('halts a redeployed control plane whose old etcd member is still listed though no join was asked, naming the member and what to do; a retry once it is removed finishes', async () => {
    removed.length = 0;
    keepMembers = true;
    const start = await a.api<Op>('POST', '/api/v1/clusters/osr/os-replace', {
      image: 'kubernetes-node',
      nodes: ['cp-2'],
    });
    assert.equal(start.status, 202);
    const op = await ended(start.body.id);
    keepMembers = false;
    assert.equal(op.state, 'failed');
    const stale = etcd.members.find((m) => m.name === 'cp-2')!;
    assert.match(
      op.reason,
      new RegExp(
        `^halted: cp-2: an etcd member named cp-2 \\(${stale.id}\\) is listed though its join was never asked: .*remove it \\(etcdctl member remove ${stale.id}\\) and retry`,
      ),
    );
    assert.doesNotMatch(op.reason, /no bootstrap script|nothing to read/);
    assert.equal(
      await api().region.store.findAgentTask(
        (await api().region.store.getOperation(op.id)).jobId ?? '',
        'bootstrap',
      ),
      null,
      'no join asked',
    );
    // The operator removes it; the retry joins cp-2 again.
    etcd.members.splice(etcd.members.indexOf(stale), 1);
    assert.equal((await a.api('POST', '/api/v1/clusters/osr/actions/retry', {})).status, 202);
    const done = await ended(start.body.id);
    assert.equal(done.state, 'succeeded', done.reason);
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), CPS, 'three members again');
    await eventually(async () => (await state()) === 'running', 10_000, 'the cluster running again');
  });

  it('refuses a control plane of a cluster with external etcd, naming the field, changing nothing', async () => {
    const r = api();
    const subnet = await r.api('POST', '/api/v1/subnets', { ...nodeSubnet('10.64'), name: 'ext-nodes' });
    assert.equal(subnet.status, 201, JSON.stringify(subnet.body));
    for (const [hostname, pool] of [
      ['x-cp', 'control'],
      ['x-e1', 'etcd'],
      ['x-e2', 'etcd'],
      ['x-e3', 'etcd'],
      ['x-w1', 'general'],
    ]) {
      const m = await r.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool, zone: 'z1', rack: 'r1' }),
      );
      await r.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    }
    await eventually(
      async () =>
        (await r.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 5,
      15_000,
      '5 ready machines',
    );
    const file = `${clusterYaml('ext', { net: '10.64', workers: 1 })}  etcd: { topology: external, count: 3, machines: { pool: etcd } }\n  networking: { nodeSubnets: [{ subnet: ext-nodes }] }\n`;
    const created = await r.api('POST', '/api/v1/clusters', { cluster: file });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await eventually(
      async () =>
        (await r.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/ext')).body.cluster.state ===
        'running',
      60_000,
      'cluster ext running',
    );
    const refused = await r.api<{ code: string; message: string }>(
      'POST',
      '/api/v1/clusters/ext/os-replace',
      {
        image: 'kubernetes-node',
        nodes: ['x-cp'],
      },
    );
    assert.equal(refused.status, 400);
    assert.match(
      refused.body.message,
      /^nodes\[0\]: x-cp is a control plane and cannot be replaced: its etcd is external/,
    );
    assert.equal((await r.api<Op[]>('GET', '/api/v1/clusters/ext/operations')).body.length, 0);
  });
});
