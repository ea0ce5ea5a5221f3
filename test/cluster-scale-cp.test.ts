/**
 * A control-plane scale on a simulated cluster (fake:// members in racks r1–r3, the in-memory
 * Kubernetes, the simulated node agents; the commands the region runs on the nodes go to a
 * fake stacked etcd, test/support/fake-etcd.ts, standing in for the node agents' shell: a node
 * whose join config was written becomes a started member once its simulated kubeadm join
 * registered its Node), as test/cluster-os-replace-cp.test.ts drives an OS replacement:
 *
 * - out 1 → 3: placed in the racks without a control plane, one at a time (quorum checked, join
 *   asked with fresh credentials, joined, member healthy and Node Ready, before the next), no
 *   credential in any event or the job; a second scale refused meanwhile (409);
 * - the refusals: 3 → 1 and an even count (400 `controlPlanes`), workers and control planes
 *   in one scale;
 * - out 3 → 5 with a member silent: refused on the first add (`failed_updating`, the node and
 *   the reason, nothing added to etcd), retried once it answers → 5;
 * - in 5 → 3, region A dying inside the newest one's `member remove` (applied, never answered):
 *   region B takes the job over, the member removed once, newest first, each Node deleted,
 *   each machine released (ready, no owner), etcd and the members back to 3;
 * - out 3 → 5 again, region B dying while it writes a join config (credentials made, the join
 *   not asked): region C takes over, the join asked once, each member added once;
 * - a failed join: `failed_updating` naming the node and the reason; a retry asks it again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NodeShell } from '../src/kube/etcd/shell.ts';
import type { AgentPort } from '../src/engine/agent-port.ts';
import { FakeAgent } from '../src/engine/fake-agent.ts';
import { FakeKube } from '../src/kube/fake.ts';
import { clusterYaml, seedClusterRegion } from './support/cluster-seed.ts';
import {
  createdCaHash,
  deadRegionHang,
  FAKE_JOIN_TOKEN,
  fakeEtcd,
  shellRegionOptions,
} from './support/fake-etcd.ts';
import { eventually, newMachineBody, startTestRegion, type TestRegion } from './support/region.ts';

const NET = '10.67';
const FILE = clusterYaml('cps', { net: NET, workers: 1 });

interface Ev {
  type: string;
  message: string;
  machineId?: string;
  data: Record<string, unknown>;
}
interface Member {
  hostname: string;
  role: string;
  machineId: string;
}
interface View {
  cluster: { state: string; stateReason?: string; members: Member[] };
}

describe('control-plane scale (stacked etcd, simulated)', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-cp-scale-'));
  const kube = new FakeKube();
  const etcd = fakeEtcd(['cp-1']);
  let caHash = '';
  const certKeys: string[] = [];
  /** `etcdctl member remove` applied, by the member's name. */
  const removed: string[] = [];
  /** Members added (joins that registered), in order. */
  const added: string[] = [];
  const configs = new Map<string, string>();
  const joining = new Set<string>();
  /** Nodes the test keeps silent (their member does not answer). */
  const silent = new Set<string>();
  let hangOn: ((argv: readonly string[]) => boolean) | null = null;
  const { bury, buried, registered } = deadRegionHang(kube);
  let a: TestRegion;
  let b: TestRegion | undefined;
  let c3: TestRegion | undefined;
  /** Dies (never answers) when it returns true for a join config written to `node`. */
  let hangOnWrite: ((node: string) => boolean) | null = null;
  const sync = () => {
    for (const n of joining)
      if (registered(n)) {
        joining.delete(n);
        etcd.members.push({ id: `b${added.length}${n.slice(-1)}`, name: n, started: true });
        added.push(n);
        if (!silent.has(n)) etcd.up.add(n);
      }
  };
  const shell: NodeShell = {
    async exec(node, argv) {
      sync();
      if (argv[0] === 'kubeadm' && argv[1] === 'init')
        certKeys.push(argv[argv.indexOf('--certificate-key') + 1]);
      if (argv[0] === 'kubeadm' && argv[1] === 'token') {
        await etcd.shell.exec(node, argv);
        return `kubeadm join ${NET}.0.10:6443 --token ${FAKE_JOIN_TOKEN} --discovery-token-ca-cert-hash ${caHash}\n`;
      }
      const words = argv.filter((x) => !x.startsWith('--'));
      if (words.includes('remove')) {
        const id = words.at(-1)!;
        const m = etcd.members.find((x) => x.id === id);
        assert.ok(m, `member ${id} removed twice (or never was): ${etcd.members.map((x) => x.id)}`);
        removed.push(m.name);
      }
      const out = await etcd.shell.exec(node, argv);
      if (hangOn?.(argv)) await buried;
      return out;
    },
    readFile: async () => Buffer.alloc(0),
    async writeFile(node, path, data) {
      configs.set(`${node}:${path}`, data.toString());
      if (hangOnWrite?.(node)) await buried;
      joining.add(node);
    },
  };
  // One simulated node-agent side for every region, a failed task staying failed (as the
  // store-backed port's task rows do).
  const fake = new FakeAgent({ delayMs: 100, kube });
  const failedTasks = new Map<string, string>();
  const agent: AgentPort = {
    async task(machine, jobId, task, params) {
      const key = `${jobId}/${machine.id}/${task}`;
      const failed = failedTasks.get(key);
      if (failed) return { status: 'failed', reason: failed };
      const r = await fake.task(machine, jobId, task, params);
      if (r.status === 'failed') failedTasks.set(key, r.reason);
      return r;
    },
  };
  const opts = () => ({ ...shellRegionOptions(dataDir, kube, shell), agent });
  const api = () => c3 ?? b ?? a;
  const view = async () => (await api().api<View>('GET', '/api/v1/clusters/cps')).body.cluster;
  // Every event of the cluster, oldest first (the API's page holds 1,000).
  const events = async (): Promise<Ev[]> => {
    const st = api().region.store;
    return st.listEvents({ clusterId: (await st.getCluster('cps')).id, limit: 1_000_000 }) as Promise<Ev[]>;
  };
  const settled = async (ms = 90_000) =>
    eventually(
      async () => {
        const c = await view();
        return c.state === 'running' || c.state === 'failed_updating' ? c : null;
      },
      ms,
      'the scale to end',
    );
  const cps = (c: { members: Member[] }) =>
    c.members
      .filter((m) => m.role !== 'worker')
      .map((m) => m.hostname)
      .sort();
  const machine = async (h: string) =>
    (await api().api<{ state: string; owner: string }>('GET', `/api/v1/machines/${ids.get(h)}`)).body;
  const ids = new Map<string, string>();

  before(async () => {
    a = await startTestRegion(opts());
    for (const [h, id] of await seedClusterRegion(a, NET, [
      ['cp-1', 'control'],
      ['w-1', 'general'],
    ]))
      ids.set(h, id);
    // Spares: cp-2 in cp-1's rack, cp-3 and cp-5 in r2, cp-4 in r3.
    for (const [hostname, rack] of [
      ['cp-2', 'r1'],
      ['cp-3', 'r2'],
      ['cp-4', 'r3'],
      ['cp-5', 'r2'],
    ]) {
      const m = await a.api<{ id: string }>(
        'POST',
        '/api/v1/machines',
        newMachineBody({ hostname, pool: 'control', zone: 'z1', rack }),
      );
      assert.equal(m.status, 201, JSON.stringify(m.body));
      ids.set(hostname, m.body.id);
      await a.api('POST', `/api/v1/machines/${m.body.id}/actions/commission`, {});
    }
    assert.equal((await a.api('POST', '/api/v1/clusters', { cluster: FILE })).status, 202);
    await eventually(async () => (await view()).state === 'running', 60_000, 'the cluster to run');
    await eventually(
      async () =>
        (await a.api<{ total: number }>('GET', '/api/v1/machines?state=ready&limit=1')).body.total === 4,
      15_000,
      '4 ready spares',
    );
    caHash = await createdCaHash(a.region.store);
  });
  after(async () => {
    bury();
    await c3?.stop().catch(() => undefined);
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('scales out 1 → 3 across racks, one control plane at a time, with fresh credentials kept off the timeline; a second scale meanwhile is 409', async () => {
    const start = await a.api<{ job: { id: string } }>('POST', '/api/v1/clusters/cps/scale', {
      controlPlanes: 3,
    });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const again = await a.api<{ code: string }>('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 5 });
    assert.equal(again.status, 409);
    const c = await settled();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(cps(c), ['cp-1', 'cp-3', 'cp-4'], 'the racks without a control plane (r2, r3), not r1');
    assert.deepEqual(added, ['cp-3', 'cp-4']);
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), ['cp-1', 'cp-3', 'cp-4']);
    assert.equal((await machine('cp-2')).state, 'ready');
    const ev = (await events()).map((e) => e.message);
    const at = (re: RegExp) => ev.findIndex((m) => re.test(m));
    const order = [
      at(/^cp-3: quorum kept \(all 1 etcd member\(s\) answer .*\); kubeadm join --control-plane asked/),
      at(/^cp-3: joined as a control plane: .*kubeadm-join-done/),
      at(/^cp-3: etcd member b0\w+ started and healthy, Node Ready/),
      at(/^cp-4: quorum kept \(all 2 etcd member\(s\) answer .*\); kubeadm join --control-plane asked/),
      at(/^cp-4: joined as a control plane/),
      at(/^cp-4: etcd member b1\w+ started and healthy, Node Ready/),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order}\n${ev.join('\n')}`,
    );
    assert.equal(certKeys.length, 2);
    assert.equal(new Set(certKeys).size, 2);
    for (const [i, h] of ['cp-3', 'cp-4'].entries()) {
      const cfg = configs.get(`${h}:/etc/kubernetes/ingot/kubeadm.yaml`) ?? '';
      assert.match(cfg, /kind: JoinConfiguration/);
      assert.ok(cfg.includes(`certificateKey: ${certKeys[i]}`), cfg);
      assert.ok(cfg.includes(FAKE_JOIN_TOKEN));
    }
    const jobs = await a.region.store.listJobs({}, 200);
    const said = JSON.stringify(await events()) + JSON.stringify(jobs);
    for (const secret of [FAKE_JOIN_TOKEN, ...certKeys]) assert.ok(!said.includes(secret), secret);
  });

  it('refuses below the quorum rules, an even count and a scale of workers and control planes at once, with 400 naming controlPlanes; nothing changes', async () => {
    for (const [body, re] of [
      [{ controlPlanes: 1 }, /^controlPlanes: 1 is below the etcd quorum of the 3 members now/],
      [{ controlPlanes: 4 }, /^controlPlanes: 4 is even/],
      [{ controlPlanes: 5, workers: 2 }, /^controlPlanes: .*change in a scale of their own/],
    ] as const) {
      const r = await a.api<{ message: string }>('POST', '/api/v1/clusters/cps/scale', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.body.message, re);
    }
    const c = await view();
    assert.equal(c.state, 'running');
    assert.deepEqual(cps(c), ['cp-1', 'cp-3', 'cp-4']);
  });

  it('refuses an add while a member is silent (failed_updating naming the node), and a retry once it answers scales out 3 → 5', async () => {
    etcd.up.delete('cp-4');
    assert.equal((await a.api('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 5 })).status, 202);
    const failed = await settled();
    assert.equal(failed.state, 'failed_updating');
    assert.match(
      failed.stateReason ?? '',
      /cp-2: refused: 1 of 3 etcd members do not answer \(cp-4\): a control plane is added only while every member answers/,
    );
    assert.equal(etcd.members.length, 3, 'no member added');
    etcd.up.add('cp-4');
    assert.equal((await a.api('POST', '/api/v1/clusters/cps/actions/retry', {})).status, 202);
    const c = await settled();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(cps(c), ['cp-1', 'cp-2', 'cp-3', 'cp-4', 'cp-5']);
    assert.deepEqual(added, ['cp-3', 'cp-4', 'cp-2', 'cp-5']);
  });

  it('scales in 5 → 3 newest first; a region dying inside a member remove is taken over and the member is not removed twice', async () => {
    let died: () => void = () => {};
    const dead = new Promise<void>((r) => {
      died = r;
    });
    hangOn = (argv) => {
      if (!argv.includes('remove')) return false;
      died();
      return true;
    };
    assert.equal((await a.api('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 3 })).status, 202);
    await dead;
    hangOn = null;
    void a.region.engine.worker.halt();
    assert.deepEqual(removed, ['cp-5'], 'the newest first, applied on etcd');
    const before = (await events()).map((e) => e.message);
    assert.ok(!before.some((m) => /^cp-5: etcd member \w+ removed/.test(m)), 'the remove was not recorded');
    b = await startTestRegion(opts());
    const c = await settled();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(removed, ['cp-5', 'cp-2'], 'each removed once');
    assert.deepEqual(cps(c), ['cp-1', 'cp-3', 'cp-4']);
    assert.deepEqual(etcd.members.map((m) => m.name).sort(), ['cp-1', 'cp-3', 'cp-4']);
    for (const h of ['cp-5', 'cp-2']) {
      assert.ok(!registered(h), `${h}'s Node deleted`);
      const mc = await machine(h);
      assert.deepEqual([mc.state, mc.owner], ['ready', '']);
    }
    const ev = (await events()).map((e) => e.message);
    const at = (re: RegExp) => ev.findIndex((m) => re.test(m));
    assert.ok(at(/^cp-5: no etcd member any more \(removed before: not removed twice\)/) >= 0, ev.join('\n'));
    const order = [
      at(/^cp-5: quorum kept \(5 of 5 etcd members answer .*without cp-5: 4 of 4/),
      at(/^cp-5: drained/),
      at(/^cp-5: no etcd member any more/),
      at(/^cp-5: Node deleted from the cluster API/),
      at(/^cp-2: quorum kept \(4 of 4 etcd members answer/),
      at(/^cp-2: etcd member b2\w+ removed through cp-/),
      at(/^cp-2: Node deleted from the cluster API/),
      at(/^cp-5: release started/),
    ];
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `${order}\n${ev.join('\n')}`,
    );
  });
  it('takes a scale out over after a region died while asking a join: each new member added once, with the credentials made again', async () => {
    let died: () => void = () => {};
    const dead = new Promise<void>((r) => {
      died = r;
    });
    const keysBefore = certKeys.length;
    const askedCp2 = async () =>
      (await events()).filter((e) =>
        /^cp-2: quorum kept .*kubeadm join --control-plane asked/.test(e.message),
      ).length;
    const askedBefore = await askedCp2();
    hangOnWrite = (node) => {
      if (node !== 'cp-2') return false;
      died();
      return true;
    };
    assert.equal((await b!.api('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 5 })).status, 202);
    await dead;
    hangOnWrite = null;
    void b!.region.engine.worker.halt();
    assert.equal(await askedCp2(), askedBefore, 'the join was not recorded as asked');
    c3 = await startTestRegion(opts());
    const c = await settled();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(cps(c), ['cp-1', 'cp-2', 'cp-3', 'cp-4', 'cp-5']);
    assert.deepEqual(added.slice(-2), ['cp-2', 'cp-5']);
    assert.equal(etcd.members.filter((m) => m.name === 'cp-2').length, 1, 'cp-2 a member once');
    assert.equal(await askedCp2(), askedBefore + 1, 'its join asked once');
    assert.equal(
      certKeys.length,
      keysBefore + 3,
      'credentials made again for cp-2 by the region that took over',
    );
    const cfg = configs.get('cp-2:/etc/kubernetes/ingot/kubeadm.yaml') ?? '';
    assert.ok(cfg.includes(`certificateKey: ${certKeys[keysBefore + 1]}`), 'the join config of the takeover');
  });
  it('fails a scale out on a failed join naming the node and the reason, and a retry asks the join again', async () => {
    assert.equal((await api().api('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 3 })).status, 202);
    assert.equal((await settled()).state, 'running');
    fake.options.failBootstrap = {
      'cp-2': 'kubeadm join: preflight: [ERROR Port-10250]: Port 10250 is in use',
    };
    assert.equal((await api().api('POST', '/api/v1/clusters/cps/scale', { controlPlanes: 5 })).status, 202);
    const failed = await settled();
    assert.equal(failed.state, 'failed_updating');
    assert.match(
      failed.stateReason ?? '',
      /cp-2: join failed: kubeadm join: preflight: \[ERROR Port-10250\]/,
    );
    fake.options.failBootstrap = {};
    assert.equal((await api().api('POST', '/api/v1/clusters/cps/actions/retry', {})).status, 202);
    const c = await settled();
    assert.equal(c.state, 'running', c.stateReason);
    assert.deepEqual(cps(c), ['cp-1', 'cp-2', 'cp-3', 'cp-4', 'cp-5']);
    const ev = (await events()).map((e) => e.message);
    assert.ok(
      ev.some((m) => /^cp-2: kubeadm join --control-plane failed: /.test(m)),
      ev.join('\n'),
    );
  });
});
