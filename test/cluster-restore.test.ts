/**
 * The durable restore through the API, the CLI and the job engine, on a simulated cluster whose
 * control plane's node is simulated in a directory (SimShell: the restore's commands run for
 * real there; src/kube/etcd/testing-shell.ts) instead of its node agent:
 *
 * - `POST …/backups/{id}/restore` answers 202 with the recorded restore; a second restore and a
 *   scale while it runs are refused (409); pause and abort are refused;
 * - region A dies (its worker halted dead, its leases left to expire) in the middle of the
 *   procedure; region B on the same store takes the job over, says so on the timeline
 *   (`cluster.restore.takeover`), and resumes at the step after the last recorded: the node ends
 *   on the restored data with its old data kept, and `ingot cluster backup restore` (which asked
 *   region A and follows it) exits 0 with the result;
 * - a restore whose member restore fails ends failed with "nothing changed", the CLI exits 1
 *   with the reason, and the cluster runs (on its old data).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeKube } from '../src/kube/fake.ts';
import { SimNodes, SimShell } from '../src/kube/etcd/testing-shell.ts';
import { clusterYaml, createRunningCluster, seedClusterRegion } from './support/cluster-seed.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually, startTestRegion, type TestRegion } from './support/region.ts';

interface Restore {
  operation: string;
  state: string;
  reason: string;
  step: string;
  controlPlanes: string[];
  keptDataDirs: string[];
  apiAfterSeconds: number | null;
  nodes: { back: number; total: number; notBack: string[] } | null;
}
interface Ev {
  type: string;
  actor: string;
  message: string;
  data: Record<string, unknown>;
}

/** A done backup of cluster `name` whose file is in region `r`'s artifact store (`dataDir`). */
async function doneBackup(r: TestRegion, dataDir: string, name: string): Promise<string> {
  const store = r.region.store;
  const c = await store.getCluster(name);
  const bk = (await store.backups.insert(
    { clusterId: c.id, trigger: 'manual', slot: null, reason: 't' },
    () => [],
  ))!;
  await store.backups.claim('test-owner', 60_000);
  const data = Buffer.from(`snapshot ${bk.id}`);
  const location = `etcd-snapshots/${name}/${bk.id}.db`;
  mkdirSync(join(dataDir, `artifacts/etcd-snapshots/${name}`), { recursive: true });
  writeFileSync(join(dataDir, 'artifacts', location), data);
  await store.backups.finish(
    bk.id,
    'test-owner',
    {
      state: 'done',
      reason: 'ok',
      sha256: createHash('sha256').update(data).digest('hex'),
      location,
      node: c.members[0].hostname,
      sizeBytes: data.length,
    },
    [],
  );
  return bk.id;
}

describe('etcd restore as a durable operation: 202, 409, a region dying mid-restore, a failure', {
  timeout: 120_000,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-restore-r-'));
  const nodesDir = mkdtempSync(join(tmpdir(), 'ingot-restore-n-'));
  let a: TestRegion;
  let b: TestRegion | undefined;
  let nodes: SimNodes;
  /** The shell each region's restores use (set per case). */
  const shells: { a: SimShell | null; b: SimShell | null } = { a: null, b: null };
  const kube = new FakeKube();
  const opts = (which: 'a' | 'b') => ({
    dataDir,
    clusterLimits: { pollMs: 20 },
    leaseMs: 800,
    simulatedKube: kube,
    restore: {
      shell: () => {
        const s = shells[which];
        if (!s) throw new Error(`no shell for region ${which}`);
        return s;
      },
    },
  });

  const backup = () => doneBackup(a, dataDir, 'rs');

  before(async () => {
    a = await startTestRegion(opts('a'));
    await seedClusterRegion(a, '10.57');
    await createRunningCluster(a, 'rs', clusterYaml('rs', { net: '10.57' }), 60_000);
    nodes = new SimNodes(nodesDir, ['cp-1']);
  });
  const killed: SimShell[] = [];
  after(async () => {
    for (const s of killed) s.bury();
    await b?.stop().catch(() => undefined);
    await a?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(nodesDir, { recursive: true, force: true });
  });

  it('a member restore that fails: failed with the reason, the CLI exits 1, the cluster runs on its old data', async () => {
    const id = await backup();
    const s = new SimShell(nodes);
    s.fail = (_n, cmd) => cmd.includes('snapshot restore');
    shells.a = s;
    const cli = await runIngot(['cluster', 'backup', 'restore', 'rs', id], { env: a.cliEnv });
    assert.equal(cli.code, 1, `${cli.err}\n${cli.out}`);
    assert.match(
      cli.out,
      /failed: restore of etcd backup .* failed, nothing changed: .*started again on its old data/,
    );
    assert.equal(nodes.read('cp-1', '/var/lib/etcd/member/db'), 'old data of cp-1');
    const c = await eventually(
      async () => {
        const g = await a.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/rs');
        return g.body.cluster.state === 'running' ? g.body.cluster : null;
      },
      10_000,
      'the cluster running again',
    );
    assert.equal(c.state, 'running');
  });

  it('answers 202, refuses a second restore and a scale (409), and region B finishes what region A began when A dies mid-restore', async () => {
    const id = await backup();
    // Region A dies in the restore's third step, before its 7th command on the node (the
    // member's `etcdctl snapshot restore`; the 6th removed the new directory).
    const sa = new SimShell(nodes);
    sa.killAfter(6);
    killed.push(sa);
    shells.a = sa;
    const started = await a.api<Restore>('POST', `/api/v1/clusters/rs/backups/${id}/restore`, {});
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    assert.deepEqual(started.body.controlPlanes, ['cp-1']);
    const again = await a.api<{ code: string; message: string }>(
      'POST',
      `/api/v1/clusters/rs/backups/${id}/restore`,
      {},
    );
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already runs operation .* \(restore, running\)/);
    const scale = await a.api('POST', '/api/v1/clusters/rs/scale', { workers: 3 });
    assert.equal(scale.status, 409);
    const abort = await a.api<{ message: string }>('POST', '/api/v1/clusters/rs/operations/active/abort', {});
    assert.equal(abort.status, 409);
    assert.match(abort.body.message, /a restore runs to its end/);
    // The CLI follows the restore it finds through region A's API.
    const follow = (async () => {
      for (;;) {
        const g = await a.api<Restore>('GET', `/api/v1/clusters/rs/backups/${id}/restore`);
        if (g.body.state !== 'running') return g.body;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await sa.dead;
    // Dead: its lease left to expire (halt waits for its stuck step: buried at the end).
    const halted = a.region.engine.worker.halt();
    const atDeath = (await a.api<Restore>('GET', `/api/v1/clusters/rs/backups/${id}/restore`)).body;
    assert.equal(atDeath.state, 'running');
    assert.equal(atDeath.step, 'stopped');
    shells.b = new SimShell(nodes);
    b = await startTestRegion(opts('b'));
    const end = await follow;
    assert.equal(end.state, 'succeeded', end.reason);
    assert.equal(end.step, 'done');
    assert.deepEqual(end.keptDataDirs, ['cp-1:/var/lib/etcd.before-' + id]);
    assert.equal(typeof end.apiAfterSeconds, 'number');
    // Every node of the (simulated) cluster heard on the restored data.
    assert.ok(
      end.nodes && end.nodes.total > 0 && end.nodes.back === end.nodes.total,
      JSON.stringify(end.nodes),
    );
    assert.match(end.reason, /every node back \(\d\) after [\d.]+ s/);
    // On the node: the restored data, the old kept, the manifests back.
    assert.equal(nodes.read('cp-1', '/var/lib/etcd/member/db'), `restored snapshot ${id} on cp-1`);
    assert.equal(nodes.read('cp-1', `/var/lib/etcd.before-${id}/member/db`), 'old data of cp-1');
    assert.equal(nodes.read('cp-1', '/etc/kubernetes/manifests/etcd.yaml') !== null, true);
    assert.deepEqual(nodes.violations, []);
    sa.bury();
    await halted;
    // The timeline: the takeover by B, each step recorded once, the end.
    const ev = (await b.api<Ev[]>('GET', '/api/v1/clusters/rs/events?limit=1000')).body.filter(
      (e) => e.data.backup === id,
    );
    const takeover = ev.filter((e) => e.type === 'cluster.restore.takeover');
    assert.equal(takeover.length, 1, ev.map((e) => e.type).join(' '));
    assert.match(
      takeover[0].message,
      new RegExp(`taken over by ${b.region.engine.owner} after step ${atDeath.step}`),
    );
    const steps = ev
      .filter((e) => e.type === 'cluster.restore.progress' && e.data.step)
      .map((e) => e.data.step);
    assert.deepEqual(
      steps.sort(),
      ['copied', 'answered', 'done', 'restored', 'started', 'stopped', 'swapped'].sort(),
    );
    assert.equal(ev.filter((e) => e.type === 'cluster.restore.done').length, 1);
    assert.equal(ev.find((e) => e.type === 'cluster.restore.started')?.actor, 'user:admin');
    const g = await b.api<{ cluster: { state: string } }>('GET', '/api/v1/clusters/rs');
    assert.equal(g.body.cluster.state, 'running');
    // The CLI shows the finished restore's result.
    const cli = await runIngot(['cluster', 'operations', 'rs', '-o', 'json'], { env: b.cliEnv });
    assert.equal(cli.code, 0, cli.err);
    const ops = JSON.parse(cli.out) as { kind: string; state: string; params: { backup?: string } }[];
    assert.ok(ops.some((o) => o.kind === 'restore' && o.state === 'succeeded' && o.params.backup === id));
  });
});

describe('etcd restore of a cluster with external etcd', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-restore-x-'));
  const nodesDir = mkdtempSync(join(tmpdir(), 'ingot-restore-xn-'));
  const ETCD = ['e-1', 'e-2', 'e-3'];
  let r: TestRegion;
  let nodes: SimNodes;
  let shell: SimShell;
  before(async () => {
    r = await startTestRegion({
      dataDir,
      clusterLimits: { pollMs: 20 },
      simulatedKube: new FakeKube(),
      restore: { shell: () => shell },
    });
    await seedClusterRegion(r, '10.58', [
      ['cp-1', 'control'],
      ...ETCD.map((e) => [e, 'etcd'] as const),
      ['w-1', 'general'],
    ]);
    const file = `${clusterYaml('rx', { net: '10.58', workers: 1 })}  etcd: { topology: external, count: 3, machines: { pool: etcd } }\n`;
    await createRunningCluster(r, 'rx', file, 60_000);
    // The control plane runs the API server, the etcd nodes a member each (kubeadm's
    // `init phase etcd local` static pod).
    nodes = new SimNodes(nodesDir, ['cp-1'], { etcdNodes: ETCD });
    shell = new SimShell(nodes);
  });
  after(async () => {
    await r?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(nodesDir, { recursive: true, force: true });
  });

  it('restores the members on the etcd nodes, with the control plane’s static pods stopped before and started after', async () => {
    const id = await doneBackup(r, dataDir, 'rx');
    const cli = await runIngot(['cluster', 'backup', 'restore', 'rx', id], { env: r.cliEnv });
    assert.equal(cli.code, 0, `${cli.err}\n${cli.out}`);
    for (const e of ETCD) {
      assert.equal(nodes.read(e, '/var/lib/etcd/member/db'), `restored snapshot ${id} on ${e}`);
      assert.equal(nodes.read(e, `/var/lib/etcd.before-${id}/member/db`), `old data of ${e}`);
      assert.notEqual(nodes.read(e, '/etc/kubernetes/manifests/etcd.yaml'), null, `${e}: etcd started again`);
    }
    assert.notEqual(nodes.read('cp-1', '/etc/kubernetes/manifests/kube-apiserver.yaml'), null);
    assert.deepEqual(nodes.violations, []);
    const log = shell.log;
    const first = (re: RegExp) => log.findIndex((l) => re.test(l));
    const last = (re: RegExp) => log.findLastIndex((l) => re.test(l));
    const restores = log.filter((l) => l.includes('snapshot restore'));
    assert.deepEqual(
      restores.map((l) => l.split(':')[0]),
      ETCD,
      'one member restore per etcd node, none on the control plane',
    );
    for (const l of restores)
      assert.match(l, /--initial-cluster=e-1=https:\/\/10\.0\.0\.\d:2380,e-2=\S+,e-3=\S+ /);
    assert.ok(!log.some((l) => l.startsWith('cp-1: env ETCDCTL_API=3')), 'no etcdctl on the control plane');
    const stopCp = first(/^cp-1: sh -ec mkdir -p \/etc\/kubernetes\/manifests-ingot-restore/);
    const startCp = last(
      /^cp-1: sh -ec .*manifests-ingot-restore\/kube-apiserver\.yaml \/etc\/kubernetes\/manifests/s,
    );
    assert.ok(stopCp >= 0 && stopCp < first(/snapshot restore/), 'the API server stopped before any restore');
    assert.ok(startCp > last(/mv \/var\/lib\/etcd \/var\/lib\/etcd\.before/), 'and started after every swap');
  });
});
