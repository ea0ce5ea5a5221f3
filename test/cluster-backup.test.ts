/**
 * etcd backups of a cluster Ingot created, on real Kubernetes 1.20.2 (a prepared 1+1 test bed
 * as in test/cluster-testbed.test.ts: the real node agents phoning home to `ingot rack` in the
 * bed's hub namespace, the region's real Kubernetes client). Every snapshot is the node agent's
 * `etcd-snapshot` task on the control plane uploading to the rack; the restore is
 * src/kube/etcd/restore.ts run through the node agents' `node-exec` tasks.
 *
 * - `ingot cluster backup create --wait`: listed with its checksum, the file in the artifact
 *   store with that SHA-256, never served by the rack's artifacts route;
 * - the restore drill: ConfigMap `before-backup` in the backup, then deleted and `after-backup`
 *   created; `ingot cluster backup restore` → `before-backup` back, `after-backup` gone, both
 *   nodes Ready, writes succeed; on the timeline with who asked;
 * - retention (`retention: 2` in the Cluster file): a third backup removes the oldest's file and
 *   record from the list;
 * - the restore is a durable operation: region A starts one (202) and dies (its worker halted,
 *   then stopped) once the control plane is stopped; a new region on the same store takes the
 *   job over (`cluster.restore.takeover`) and finishes it: the backup's ConfigMap back, the later
 *   one gone, every node Ready, a write works.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentTasksPort } from '../src/engine/agent-tasks-port.ts';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  bedClusterFile,
  type ClusterBed,
  newClusterBed,
  startClusterBed,
  stopClusterBed,
} from './support/cluster-bed.ts';
import { NODE_IMAGE } from './support/cluster-seed.ts';
import { assertRestored, workingAfterRestore } from './support/day2.ts';
import { runIngot } from './support/ingot-cli.ts';
import { eventually as until, startTestRegion, type TestRegion } from './support/region.ts';
import { skipUnless } from './support/needs.ts';
import { BED_NEEDS, bedName, eventually, reapStaleBeds } from './support/testbed.ts';

const CLUSTER = 'bkc';

interface BackupView {
  id: string;
  state: string;
  reason: string;
  node: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  location: string | null;
  revision: number | null;
}

interface RestoreView {
  state: string;
  reason: string;
  step: string;
  keptDataDirs: string[];
  apiAfterSeconds: number | null;
  nodes: { back: number; total: number; notBack: string[] } | null;
  nodesAfterSeconds: number | null;
}

describe('etcd backups of an Ingot cluster on the test bed: node agent snapshots, the restore drill, retention', {
  skip: skipUnless(BED_NEEDS),
  timeout: 20 * 60_000,
}, () => {
  const cb: ClusterBed = newClusterBed(bedName('bk'));
  let core: CoreV1Api;
  const t0 = Date.now();
  const lap = (what: string) =>
    process.stderr.write(`${what}: +${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  before(async () => {
    await reapStaleBeds('bk');
    await startClusterBed(cb);
    lap('bed up, nodes commissioned');
    const file = join(cb.root, 'cluster.yaml');
    // A schedule that does not fire during the test (1 January); retention keeps 2.
    writeFileSync(
      file,
      `${bedClusterFile(CLUSTER, cb.bed!)}  backups: { etcd: { schedule: '0 0 1 1 *', retention: 2 } }\n`,
    );
    const run = await runIngot(
      ['cluster', 'create', '-f', file, '--image', NODE_IMAGE.name, '--wait', '--timeout', '1200'],
      { env: cb.r!.cliEnv },
    );
    assert.equal(run.code, 0, `${run.err}\n${run.out}`);
    const kc = await runIngot(['cluster', 'kubeconfig', CLUSTER, '-o', '-'], { env: cb.r!.cliEnv });
    assert.equal(kc.code, 0, kc.err);
    const k = new KubeConfig();
    k.loadFromString(cb.kube!.rewrite(kc.out));
    core = k.makeApiClient(CoreV1Api);
    lap('cluster running');
  });

  after(async () => {
    await stopClusterBed(cb);
  });

  const cli = (...args: string[]) => runIngot(args, { env: cb.r!.cliEnv });
  const artifacts = () => join(cb.r!.dataDir, 'artifacts');
  const list = async () => {
    const r = await cli('cluster', 'backup', 'ls', CLUSTER, '-o', 'json');
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as { items: BackupView[] }).items;
  };
  const create = async (): Promise<BackupView> => {
    const r = await cli('cluster', 'backup', 'create', CLUSTER, '--wait', '--timeout', '300', '-o', 'json');
    assert.equal(r.code, 0, `${r.err}\n${r.out}`);
    return (JSON.parse(r.out) as { backup: BackupView }).backup;
  };
  let first: BackupView;

  it('takes a snapshot on the control plane through its node agent: listed with its checksum, the file in the artifact store', async () => {
    await eventually(() =>
      core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'before-backup' }, data: { at: 'before' } },
      }),
    );
    first = await create();
    lap('first backup done');
    assert.equal(first.state, 'done', first.reason);
    assert.equal(first.node, 'node1');
    assert.ok((first.revision ?? 0) > 0);
    assert.equal(first.location, `etcd-snapshots/${CLUSTER}/${first.id}.db`);
    const data = readFileSync(join(artifacts(), first.location!));
    assert.equal(data.length, first.sizeBytes);
    assert.equal(createHash('sha256').update(data).digest('hex'), first.sha256);
    const listed = (await list()).find((b) => b.id === first.id);
    assert.equal(listed?.sha256, first.sha256);
    // The node's copy is gone; the rack never serves snapshots on its artifacts route.
    assert.equal(
      existsSync(join(cb.root, cb.name, 'node1', `var-up/lib/ingot-etcd-snapshot-${first.id}.db`)),
      false,
    );
    const hub = cb.bed!.endpoint.replace(/\.\d+$/, '.1');
    const served = await fetch(`http://${hub}:8081/artifacts/${first.location}`).catch(() => null);
    assert.ok(!served || served.status === 404, `the artifacts route served a snapshot (${served?.status})`);
  });

  it('restores the backup through the node agents: the ConfigMap of the backup is back, the later one gone, the cluster works on', async () => {
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'before-backup' });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'after-backup' }, data: { at: 'after' } },
    });
    const t = Date.now();
    const r = await cli('cluster', 'backup', 'restore', CLUSTER, first.id, '-o', 'json');
    assert.equal(r.code, 0, `${r.err}\n${r.out}`);
    const res = JSON.parse(r.out) as RestoreView & { controlPlanes: string[] };
    assert.deepEqual(res.controlPlanes, ['node1']);
    // Done is both kubelets heard by the restored API (their leases renewed after the restart).
    assert.deepEqual(res.nodes, { back: 2, total: 2, notBack: [] }, res.reason);
    lap(
      `restore answered (API after ${res.apiAfterSeconds} s, every node back after ${res.nodesAfterSeconds} s)`,
    );
    await assertRestored(core, { back: 'before-backup', gone: 'after-backup' });
    process.stderr.write(
      `restore: the restored data answered after ${((Date.now() - t) / 1000).toFixed(1)} s\n`,
    );
    await workingAfterRestore(core);
    const ev = await cb.r!.api<{ type: string; actor: string }[]>(
      'GET',
      `/api/v1/clusters/${CLUSTER}/events?limit=1000`,
    );
    const types = ev.body.map((e) => e.type);
    assert.ok(
      types.includes('cluster.restore.started') && types.includes('cluster.restore.done'),
      types.join(' '),
    );
    assert.equal(ev.body.find((e) => e.type === 'cluster.restore.started')?.actor, 'user:admin', 'who asked');
  });

  it('keeps the newest two backups (retention: 2): a third removes the oldest, file and listing', async () => {
    const second = await create();
    const third = await create();
    lap('two more backups');
    assert.equal(second.state, 'done', second.reason);
    assert.equal(third.state, 'done', third.reason);
    const ids = (await list()).map((b) => b.id);
    assert.deepEqual(ids, [third.id, second.id]);
    assert.equal(existsSync(join(artifacts(), first.location!)), false, 'the oldest file removed');
    assert.equal(existsSync(join(artifacts(), third.location!)), true);
    const gone = await cb.r!.api<{ backup: { state: string; reason: string } }>(
      'GET',
      `/api/v1/clusters/${CLUSTER}/backups/${first.id}`,
    );
    assert.equal(gone.body.backup.state, 'deleted');
    assert.match(gone.body.backup.reason, /^retention: keep 2/);
  });
  it('a region that dies mid-restore: another on the same store takes the restore over and finishes it on the nodes', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'in-takeover-backup' }, data: { at: 'before' } },
    });
    const bk = await create();
    assert.equal(bk.state, 'done', bk.reason);
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'in-takeover-backup' });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'after-takeover-backup' }, data: { at: 'after' } },
    });
    const r0 = cb.r!;
    const url = `/api/v1/clusters/${CLUSTER}/backups/${bk.id}/restore`;
    const started = await r0.api<RestoreView>('POST', url, {});
    assert.equal(started.status, 202, JSON.stringify(started.body));
    // Once the control plane is stopped, region A dies (its worker halted: no more steps) and
    // stops; a new region on the same store takes the job over.
    const at = await until(
      async () => {
        const g = (await r0.api<RestoreView>('GET', url)).body;
        return ['stopped', 'restored', 'swapped', 'started'].includes(g.step) ? g : null;
      },
      300_000,
      'the control plane stopped',
    );
    await r0.region.engine.worker.halt();
    const left = (await r0.api<RestoreView>('GET', url)).body;
    await r0.stop();
    lap(`region A died at step ${at.step} (recorded: ${left.step})`);
    assert.equal(left.state, 'running', left.reason);
    let r2: TestRegion | undefined;
    r2 = await startTestRegion({
      dataDir: r0.dataDir,
      agent: { task: (...a) => new AgentTasksPort(() => r2!.region.store).task(...a) },
      kube: cb.kube,
      clusterLimits: { pollMs: 1000 },
    });
    cb.r = r2;
    const end = await until(
      async () => {
        await new Promise((res) => setTimeout(res, 1000));
        const g = (await r2!.api<RestoreView>('GET', url)).body;
        return g.state !== 'running' ? g : null;
      },
      600_000,
      'the restore to end in region B',
    );
    lap(`restore finished by region B (API after ${end.apiAfterSeconds} s)`);
    assert.equal(end.state, 'succeeded', end.reason);
    assert.deepEqual(end.keptDataDirs, [`node1:/var/lib/etcd.before-${bk.id}`]);
    assert.deepEqual(end.nodes, { back: 2, total: 2, notBack: [] }, end.reason);
    await assertRestored(core, { back: 'in-takeover-backup', gone: 'after-takeover-backup' });
    const ev = (
      await r2.api<{ type: string; message: string; data: Record<string, unknown> }[]>(
        'GET',
        `/api/v1/clusters/${CLUSTER}/events?limit=1000`,
      )
    ).body.filter((e) => e.data.backup === bk.id);
    const takeover = ev.filter((e) => e.type === 'cluster.restore.takeover');
    assert.equal(takeover.length, 1, ev.map((e) => e.type).join(' '));
    assert.match(
      takeover[0].message,
      new RegExp(`taken over by ${r2.region.engine.owner} after step ${left.step}`),
    );
    const steps = ev
      .filter((e) => e.type === 'cluster.restore.progress' && e.data.step)
      .map((e) => e.data.step);
    assert.equal(new Set(steps).size, steps.length, `each step recorded once: ${steps.join(' ')}`);
    await until(
      async () =>
        (await core.listNode().catch(() => ({ items: [] }))).items.length > 0 &&
        (await core.listNode()).items.every((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      180_000,
      'every node Ready after the restore',
    );
    await eventually(() =>
      core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'after-takeover' } },
      }),
    );
    const c = (await r2.api<{ cluster: { state: string } }>('GET', `/api/v1/clusters/${CLUSTER}`)).body;
    assert.equal(c.cluster.state, 'running');
  });
});
