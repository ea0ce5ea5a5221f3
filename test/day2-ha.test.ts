/**
 * The etcd restore drill on the HA test bed (3 control planes with stacked etcd behind haproxy,
 * 2 workers; real Kubernetes 1.20.2): a snapshot taken on one control plane is restored on all
 * three as a new three-member etcd cluster (docs/day2.md). Heavy (5 nodes): its own file, so
 * the 1+1 suite (test/day2.test.ts) runs without it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Api } from '@kubernetes/client-node';
import { restoreSnapshot } from '../src/kube/etcd/restore.ts';
import { etcdctl, readSnapshot, takeSnapshot } from '../src/kube/etcd/snapshot.ts';
import type { ApiAccess } from '../src/lab/testbed/api.ts';
import type { BedState } from '../src/lab/testbed/bed.ts';
import { bedShell } from '../src/lab/testbed/shell.ts';
import { saveSysctls } from '../src/lab/testbed/sysctls.ts';
import { skipUnless } from './support/needs.ts';
import {
  BED_NEEDS,
  bedName,
  eventually,
  reapStaleBeds,
  startBed,
  stopBed,
  waitFor,
} from './support/testbed.ts';

const NEEDS = { ...BED_NEEDS, programs: [...BED_NEEDS.programs, 'etcdctl'] };

before(() => reapStaleBeds('dh'));

describe('the etcd restore drill on the HA test bed', {
  skip: skipUnless(NEEDS),
  timeout: 20 * 60_000,
}, () => {
  const name = bedName('dh');
  let root = '';
  let bed: BedState;
  let api: ApiAccess;
  let core: CoreV1Api;
  const sysctlsBefore = saveSysctls();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ingot-day2-ha-'));
    ({ bed, api, core } = await startBed(name, 'ha', root));
  });

  after(() => stopBed(name, root, bed, api, sysctlsBefore));

  it('restores a snapshot on all three control planes: the earlier ConfigMap is back, the later one gone, three etcd members healthy', async () => {
    const artifacts = join(root, 'artifacts');
    const shell = bedShell(root, name);
    const cps = bed.nodes.filter((n) => n.role === 'control-plane').map((n) => n.name);
    assert.deepEqual(cps, ['node1', 'node2', 'node3']);
    await eventually(() =>
      core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'before-snapshot' }, data: { at: 'before' } },
      }),
    );
    // Taken on the second control plane: any member's snapshot restores the whole cluster.
    const rec = await takeSnapshot(shell, { artifacts, cluster: 'bed-ha', node: 'node2' });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'before-snapshot' });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'after-snapshot' }, data: { at: 'after' } },
    });

    const t = Date.now();
    const done = await restoreSnapshot(shell, {
      controlPlanes: cps,
      snapshot: readSnapshot(artifacts, 'bed-ha', rec.id),
      say: (l) => process.stderr.write(`restore: ${l}\n`),
    });
    assert.deepEqual(done.members.map((m) => m.name).sort(), cps);
    const cm = await eventually(
      () => core.readNamespacedConfigMap({ namespace: 'default', name: 'before-snapshot' }),
      300_000,
    );
    process.stderr.write(`day2 HA: restore to API answering in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    assert.equal(cm.data?.at, 'before');
    await assert.rejects(
      core.readNamespacedConfigMap({ namespace: 'default', name: 'after-snapshot' }),
      (e) => (e as { code?: number }).code === 404,
    );
    // One etcd cluster of three again, each member answering, and writes succeed.
    const list = JSON.parse(await shell.exec('node1', etcdctl('member', 'list', '--write-out=json'))) as {
      members: { name: string }[];
    };
    assert.deepEqual(list.members.map((m) => m.name).sort(), cps);
    for (const n of cps) await eventually(() => shell.exec(n, etcdctl('endpoint', 'health')), 120_000);
    await waitFor(
      async () =>
        (await core.listNode()).items.every((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      180_000,
      'every node Ready after the restore',
    );
    await eventually(() =>
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-restore' } } }),
    );
  });
});
