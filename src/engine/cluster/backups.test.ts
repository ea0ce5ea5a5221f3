import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import type { Store } from '../../store/store.ts';
import { BackupService, controlPlanes, etcdNodes } from './backups.ts';

const member = (hostname: string, role: ClusterMember['role'], order: number) =>
  ({ hostname, role, order, machineId: `m-${hostname}`, address: '10.0.0.1/24' }) as ClusterMember;

describe('etcdNodes', () => {
  it('is the control planes, the init node first, where etcd is stacked', () => {
    const c = {
      members: [member('w-1', 'worker', 2), member('cp-2', 'control-plane', 1), member('cp-1', 'init', 0)],
    } as unknown as Cluster;
    assert.deepEqual(etcdNodes(c), ['cp-1', 'cp-2']);
    assert.deepEqual(etcdNodes(c), controlPlanes(c));
  });

  it('is the dedicated etcd nodes in their order where etcd is external (snapshots are taken on the first)', () => {
    const c = {
      members: [
        member('cp-1', 'init', 3),
        member('e-2', 'etcd', 1),
        member('e-1', 'etcd', 0),
        member('e-3', 'etcd', 2),
        member('w-1', 'worker', 4),
      ],
    } as unknown as Cluster;
    assert.deepEqual(etcdNodes(c), ['e-1', 'e-2', 'e-3']);
    assert.deepEqual(controlPlanes(c), ['cp-1']);
  });
});

describe('BackupService', () => {
  it('ticks at its default interval when the options name the interval as undefined (the region passes its own through)', async () => {
    let rounds = 0;
    // Only what a round with no cluster reads.
    const store = {
      listClusters: async () => {
        rounds++;
        return [];
      },
      backups: { heartbeat: async () => 0, claim: async () => [] },
    } as unknown as Store;
    const s = new BackupService({ store, artifactsDir: '/nonexistent', owner: 'r', tickMs: undefined });
    s.start();
    await new Promise((r) => setTimeout(r, 150));
    await s.stop();
    // The round start() runs; the next is 15 s away. (Before the fix: a round every millisecond.)
    assert.equal(rounds, 1);
  });
});
