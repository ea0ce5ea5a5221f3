import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from './errors.ts';
import { batchSize, type RollNode, rollingPlan } from './rolling-plan.ts';

const nodes: RollNode[] = [
  { node: 'w3', role: 'worker', domain: 'z1/r2' },
  { node: 'cp3', role: 'control-plane', domain: 'z1/r3' },
  { node: 'w1', role: 'worker', domain: 'z1/r1' },
  { node: 'cp1', role: 'init', domain: 'z1/r1' },
  { node: 'w2', role: 'worker', domain: 'z1/r1' },
  { node: 'cp2', role: 'control-plane', domain: 'z1/r2' },
  { node: 'w4', role: 'worker', domain: 'z1/r2' },
  { node: 'w5', role: 'worker', domain: 'z1/r1' },
];

describe('rollingPlan', () => {
  it('snapshots, then rolls control planes one at a time from the init node, then workers in batches', () => {
    assert.deepEqual(rollingPlan({ nodes, maxUnavailable: 2 }), [
      { kind: 'snapshot' },
      { kind: 'control-plane', node: 'cp1', first: true },
      { kind: 'control-plane', node: 'cp2', first: false },
      { kind: 'control-plane', node: 'cp3', first: false },
      { kind: 'workers', nodes: ['w1', 'w2'] },
      { kind: 'workers', nodes: ['w5'] },
      { kind: 'workers', nodes: ['w3', 'w4'] },
    ]);
  });

  it('never puts two failure domains in one batch', () => {
    for (const phase of rollingPlan({ nodes, maxUnavailable: 10 }).filter((p) => p.kind === 'workers')) {
      const domains = new Set(phase.nodes.map((n) => nodes.find((x) => x.node === n)!.domain));
      assert.equal(domains.size, 1, phase.nodes.join());
    }
  });

  it('leaves out what a resumed roll already did', () => {
    assert.deepEqual(
      rollingPlan({ nodes, maxUnavailable: 1, snapshotTaken: true, done: ['cp1', 'cp2', 'w1', 'w3'] }),
      [
        { kind: 'control-plane', node: 'cp3', first: false },
        { kind: 'workers', nodes: ['w2'] },
        { kind: 'workers', nodes: ['w5'] },
        { kind: 'workers', nodes: ['w4'] },
      ],
    );
  });

  it('rolls workers alone (an OS replacement of workers) in batches, with no control plane to start from', () => {
    const workers = nodes.filter((n) => n.role === 'worker');
    assert.deepEqual(rollingPlan({ nodes: workers, maxUnavailable: 2, snapshotTaken: true }), [
      { kind: 'workers', nodes: ['w1', 'w2'] },
      { kind: 'workers', nodes: ['w5'] },
      { kind: 'workers', nodes: ['w3', 'w4'] },
    ]);
  });

  it('refuses two init nodes, and a node listed twice', () => {
    assert.throws(
      () =>
        rollingPlan({
          nodes: [...nodes, { node: 'cp0', role: 'init', domain: 'z1/r1' }],
          maxUnavailable: 1,
        }),
      (e) => isIngotError(e, 'INGOT_VALIDATION') && /^nodes: .*found 2/.test(e.message),
    );
    assert.throws(
      () => rollingPlan({ nodes: [...nodes, nodes[0]], maxUnavailable: 1 }),
      /w3 is listed twice/,
    );
  });
});

describe('rollingPlan of some control planes (an OS replacement)', () => {
  it('rolls the named control planes one at a time without the init node, then the workers', () => {
    const some = nodes.filter((n) => n.role !== 'init');
    const phases = rollingPlan({ nodes: some, maxUnavailable: 1, snapshotTaken: true });
    const cps = phases.filter((p) => p.kind === 'control-plane');
    assert.ok(cps.length >= 1 && cps.every((p) => p.kind === 'control-plane' && !p.first));
    const firstWorkers = phases.findIndex((p) => p.kind === 'workers');
    assert.ok(
      phases.slice(firstWorkers).every((p) => p.kind === 'workers'),
      JSON.stringify(phases),
    );
  });
});

describe('batchSize', () => {
  it('takes a count or a percentage of the workers, at least one', () => {
    assert.equal(batchSize(3, 10), 3);
    assert.equal(batchSize('25%', 10), 2);
    assert.equal(batchSize('10%', 3), 1);
    assert.equal(batchSize('100%', 4), 4);
  });

  it('refuses a bad maxUnavailable naming the field', () => {
    for (const bad of [0, -2, 1.5, '0%', '120%', 'two'])
      assert.throws(
        () => batchSize(bad, 5),
        (e) => isIngotError(e, 'INGOT_VALIDATION') && /^maxUnavailable: /.test(e.message),
      );
  });
});
