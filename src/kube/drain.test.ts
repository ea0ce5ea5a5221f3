/** Which pods a drain leaves on the node (the drain itself runs against real Kubernetes: test/day2.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { keptBecause } from './drain.ts';

const pod = (o: { annotations?: Record<string, string>; owner?: string; phase?: string }): V1Pod => ({
  metadata: {
    name: 'p',
    namespace: 'default',
    annotations: o.annotations,
    ownerReferences: o.owner
      ? [{ apiVersion: 'apps/v1', kind: o.owner, name: 'x', uid: 'u', controller: true }]
      : [],
  },
  status: { phase: o.phase ?? 'Running' },
});

describe('keptBecause', () => {
  it('keeps mirror pods, DaemonSet pods and finished pods, and evicts the rest', () => {
    assert.equal(keptBecause(pod({ annotations: { 'kubernetes.io/config.mirror': 'abc' } })), 'mirror pod');
    assert.equal(keptBecause(pod({ owner: 'DaemonSet' })), 'DaemonSet pod');
    assert.equal(keptBecause(pod({ owner: 'ReplicaSet', phase: 'Succeeded' })), 'finished');
    assert.equal(keptBecause(pod({ owner: 'Job', phase: 'Failed' })), 'finished');
    assert.equal(keptBecause(pod({ owner: 'ReplicaSet' })), null);
    assert.equal(keptBecause(pod({ owner: 'StatefulSet', phase: 'Pending' })), null);
    assert.equal(keptBecause(pod({})), null);
  });
});
