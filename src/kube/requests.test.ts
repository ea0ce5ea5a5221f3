import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { isIngotError } from '../core/errors.ts';
import { podRequests, quantity, requestsByNode } from './requests.ts';

const pod = (o: {
  node?: string;
  phase?: string;
  containers?: Record<string, string>[];
  init?: Record<string, string>[];
  overhead?: Record<string, string>;
}): V1Pod => ({
  spec: {
    nodeName: o.node,
    containers: (o.containers ?? []).map((r, i) => ({ name: `c${i}`, resources: { requests: r } })),
    initContainers: (o.init ?? []).map((r, i) => ({ name: `i${i}`, resources: { requests: r } })),
    overhead: o.overhead,
  },
  status: { phase: o.phase ?? 'Running' },
});

describe('Kubernetes quantities', () => {
  it('reads decimal and binary suffixes, millicores and exponents', () => {
    assert.equal(quantity('250m'), 0.25);
    assert.equal(quantity('2'), 2);
    assert.equal(quantity('1.5'), 1.5);
    assert.equal(quantity('64Mi'), 64 * 1024 * 1024); // 67,108,864
    assert.equal(quantity('1Gi'), 2 ** 30);
    assert.equal(quantity('1G'), 1e9);
    assert.equal(quantity('128k'), 128_000);
    assert.equal(quantity('1e3'), 1000);
    assert.equal(quantity(undefined), 0);
  });
  it('refuses what is not a quantity, naming the field', () => {
    assert.throws(
      () => quantity('12 cores'),
      (e) => isIngotError(e, 'INGOT_VALIDATION') && /quantity/.test(e.message),
    );
    assert.throws(
      () => quantity('5Xi'),
      (e) => isIngotError(e, 'INGOT_VALIDATION'),
    );
  });
});

describe('pod requests as the scheduler counts them', () => {
  it('sums the containers, takes the largest init container where it is larger, adds the overhead', () => {
    // containers 100m + 250m = 350m, init max(500m, 200m) = 500m → 500m; + overhead 50m = 0.55
    // memory: containers 64Mi + 64Mi = 128Mi, init max 32Mi → 128Mi; + overhead 0 = 128Mi
    const r = podRequests(
      pod({
        containers: [
          { cpu: '100m', memory: '64Mi' },
          { cpu: '250m', memory: '64Mi' },
        ],
        init: [{ cpu: '500m', memory: '32Mi' }, { cpu: '200m' }],
        overhead: { cpu: '50m' },
      }),
    );
    assert.ok(Math.abs(r.cpu - 0.55) < 1e-12, String(r.cpu));
    assert.equal(r.memoryBytes, 128 * 2 ** 20);
  });

  it('per node: bound, unfinished pods only', () => {
    const m = requestsByNode([
      pod({ node: 'a', containers: [{ cpu: '1', memory: '1Gi' }] }),
      pod({ node: 'a', phase: 'Pending', containers: [{ cpu: '500m' }] }), // bound, image pulling: counts
      pod({ node: 'a', phase: 'Succeeded', containers: [{ cpu: '4' }] }), // finished: not
      pod({ node: 'b', phase: 'Failed', containers: [{ cpu: '4' }] }), // finished: not
      pod({ containers: [{ cpu: '8' }] }), // not bound: not
      pod({ node: 'c', containers: [{ memory: '512Mi' }] }),
    ]);
    // a: 1 + 0.5 = 1.5 CPU, 1 GiB; c: 0 CPU, 0.5 GiB; b has no live pod
    assert.deepEqual(
      [...m.entries()],
      [
        ['a', { cpu: 1.5, memoryBytes: 2 ** 30 }],
        ['c', { cpu: 0, memoryBytes: 512 * 2 ** 20 }],
      ],
    );
  });
});
