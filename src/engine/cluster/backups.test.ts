import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster, ClusterMember } from '../../core/cluster.ts';
import { controlPlanes, etcdNodes } from './backups.ts';

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
