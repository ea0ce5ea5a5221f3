/**
 * The restore procedure's order and its way back when a step fails, with a NodeShell that
 * records commands (the restore itself runs against real etcd on the test bed:
 * test/day2.test.ts, test/testbed.test.ts HA suite; the steps run again after a kill, on
 * simulated nodes: src/engine/cluster/restore-procedure.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isIngotError } from '../../core/errors.ts';
import { memberOfManifest, restoreSnapshot } from './restore.ts';
import type { NodeShell } from './shell.ts';
import type { SnapshotRecord } from './snapshot.ts';

const manifest = (node: string, ip: string) => `apiVersion: v1
kind: Pod
metadata: { name: etcd-${node}, namespace: kube-system }
spec:
  containers:
    - name: etcd
      command:
        - etcd
        - --data-dir=/var/lib/etcd
        - --initial-advertise-peer-urls=https://${ip}:2380
        - --name=${node}
`;

const data = Buffer.from('snapshot bytes');
const record: SnapshotRecord = {
  id: 'etcd-1',
  cluster: 'c',
  node: 'cp1',
  takenAt: '2026-12-02T00:00:00.000Z',
  sha256: createHash('sha256').update(data).digest('hex'),
  bytes: data.length,
  revision: 1,
  totalKeys: 1,
  hash: 1,
};

/** Two control planes; etcd answers unless its manifest is held; `fail` makes a command fail. */
function shell(fail: (node: string, cmd: string) => boolean) {
  const log: string[] = [];
  const held = new Set<string>();
  const s: NodeShell = {
    exec: async (node, argv) => {
      const cmd = argv.join(' ');
      log.push(`${node}: ${cmd}`);
      if (fail(node, cmd)) throw new Error(`${argv[0]} failed on ${node}`);
      if (cmd.includes('mv /etc/kubernetes/manifests/etcd.yaml')) held.add(node);
      if (cmd.includes('mv /etc/kubernetes/manifests-ingot-restore/etcd.yaml')) held.delete(node);
      if (cmd.includes('endpoint health') && held.has(node)) throw new Error('connection refused');
      if (argv[0] === 'sha256sum') return `${record.sha256}  file\n`;
      return '';
    },
    readFile: async (node) => Buffer.from(manifest(node, node === 'cp1' ? '10.0.0.1' : '10.0.0.2')),
    writeFile: async (node, path) => {
      log.push(`${node}: write ${path}`);
    },
  };
  return { s, log, held };
}

describe('memberOfManifest', () => {
  it('reads the member from kubeadm’s etcd manifest, and refuses one that is not', () => {
    assert.deepEqual(memberOfManifest('cp1', manifest('cp1', '10.0.0.1')), {
      node: 'cp1',
      name: 'cp1',
      peerUrl: 'https://10.0.0.1:2380',
      dataDir: '/var/lib/etcd',
    });
    assert.throws(
      () => memberOfManifest('cp1', 'kind: Pod\n'),
      (e) => isIngotError(e, 'INGOT_CONFIG'),
    );
  });
});

describe('restoreSnapshot', () => {
  it('stops every control plane, restores every member with the whole initial cluster, swaps, then starts them', async () => {
    const { s, log, held } = shell(() => false);
    const r = await restoreSnapshot(s, { controlPlanes: ['cp1', 'cp2'], snapshot: { record, data } });
    assert.deepEqual(r.keptDataDirs, ['cp1:/var/lib/etcd.before-etcd-1', 'cp2:/var/lib/etcd.before-etcd-1']);
    const restores = log.filter((l) => l.includes('snapshot restore'));
    assert.equal(restores.length, 2);
    for (const l of restores)
      assert.match(
        l,
        /--initial-cluster=cp1=https:\/\/10.0.0.1:2380,cp2=https:\/\/10.0.0.2:2380 .*--initial-cluster-token=ingot-etcd-1/,
      );
    const first = (text: string) => log.findIndex((l) => l.includes(text));
    const last = (text: string) => log.findLastIndex((l) => l.includes(text));
    assert.ok(
      last('mv /etc/kubernetes/manifests/etcd.yaml') < first('snapshot restore'),
      'all stopped before restoring',
    );
    assert.ok(
      last('snapshot restore') < first('mv /var/lib/etcd /var/lib/etcd.before'),
      'all restored before any swap',
    );
    assert.ok(
      last('mv /var/lib/etcd /var/lib/etcd.before') < first('manifests-ingot-restore/etcd.yaml /etc'),
      'all swapped before starting',
    );
    assert.equal(held.size, 0, 'every manifest is back');
  });

  it('refuses a snapshot whose copy on a node has another checksum, before stopping anything', async () => {
    const { s, log } = shell(() => false);
    const other = {
      ...s,
      exec: async (n: string, a: readonly string[]) =>
        a[0] === 'sha256sum' ? `${'0'.repeat(64)}  f\n` : s.exec(n, a),
    };
    await assert.rejects(
      restoreSnapshot(other, { controlPlanes: ['cp1'], snapshot: { record, data } }),
      (e) => isIngotError(e, 'INGOT_CONFLICT') && /nothing was changed/.test(e.message),
    );
    assert.ok(!log.some((l) => l.includes('manifests-ingot-restore')));
  });

  it('starts the control plane again on its old data when a member’s restore fails', async () => {
    const { s, log, held } = shell((node, cmd) => node === 'cp2' && cmd.includes('snapshot restore'));
    await assert.rejects(
      restoreSnapshot(s, { controlPlanes: ['cp1', 'cp2'], snapshot: { record, data } }),
      (e) =>
        isIngotError(e, 'INGOT_STEP_FAILED') &&
        /failed before any data was swapped .*started again on its old data/.test(e.message),
    );
    assert.ok(!log.some((l) => l.includes('mv /var/lib/etcd /var/lib/etcd.before')), 'no data swapped');
    assert.ok(
      log.some((l) => l.startsWith('cp1: rm -rf /var/lib/etcd.restore-etcd-1')),
      'the new directories removed',
    );
    assert.equal(held.size, 0, 'every manifest is back');
  });

  it('swaps back the members already swapped when a swap fails', async () => {
    const { s, log, held } = shell(
      (node, cmd) => node === 'cp2' && cmd.includes('mv /var/lib/etcd /var/lib/etcd.before'),
    );
    await assert.rejects(
      restoreSnapshot(s, { controlPlanes: ['cp1', 'cp2'], snapshot: { record, data } }),
      (e) => isIngotError(e, 'INGOT_STEP_FAILED') && /the old data was put back/.test(e.message),
    );
    assert.ok(
      log.some(
        (l) =>
          l.startsWith('cp1: sh -ec ') &&
          l.includes(
            'elif [ -d /var/lib/etcd.before-etcd-1 ]; then rm -rf /var/lib/etcd; mv /var/lib/etcd.before-etcd-1 /var/lib/etcd; fi',
          ),
      ),
      'cp1 swapped back',
    );
    assert.equal(held.size, 0);
  });
});
