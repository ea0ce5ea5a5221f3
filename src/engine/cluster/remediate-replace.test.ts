/** Which ready machines may replace a failed node: its role's selectors, hand-made machines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickSpare } from '../../core/remediation.ts';
import { cluster, machine } from '../../cluster/testing.ts';
import { sparesFor } from './remediate-replace.ts';

const inPool = (hostname: string, zone: string, rack: string, pool: string) => ({
  ...machine(hostname, zone, rack),
  pool,
});

describe('sparesFor', () => {
  const spec = cluster({
    controlPlane: { count: 1, machines: { pool: 'control' } },
    placement: { tolerate: [] },
    workers: [
      { name: 'general', count: 2, machines: { pool: 'general' } },
      { name: 'gpu', count: 1, machines: { pool: 'gpu' } },
    ],
  });
  const failed = { ...inPool('w1', 'z1', 'r1', 'general'), state: 'deployed' as const };
  const ready = [
    inPool('g-same-rack', 'z1', 'r1', 'general'),
    inPool('gpu-same-rack', 'z1', 'r1', 'gpu'),
    inPool('cp-same-rack', 'z1', 'r1', 'control'),
    inPool('g-same-zone', 'z1', 'r2', 'general'),
    inPool('g-other-zone', 'z2', 'r1', 'general'),
  ];

  it("offers only machines of the failed worker's own pool, each with its zone/rack domain", () => {
    assert.deepEqual(sparesFor(spec, failed, 'worker', ready), [
      { machineId: 'm-g-same-rack', domain: 'z1/r1' },
      { machineId: 'm-g-same-zone', domain: 'z1/r2' },
      { machineId: 'm-g-other-zone', domain: 'z2/r1' },
    ]);
    // The rack's spare of its pool, not the GPU or control machine beside it.
    assert.deepEqual(pickSpare({ node: 'w1', domain: 'z1/r1' }, sparesFor(spec, failed, 'worker', ready)), {
      machineId: 'm-g-same-rack',
      domain: 'z1/r1',
    });
    // A control plane takes a control machine.
    const cp = { ...inPool('cp1', 'z1', 'r1', 'control'), state: 'deployed' as const };
    assert.deepEqual(
      sparesFor(spec, cp, 'control-plane', ready).map((s) => s.machineId),
      ['m-cp-same-rack'],
    );
  });

  it('halts clearly when only other pools have ready machines in the domain', () => {
    const spares = sparesFor(
      spec,
      failed,
      'worker',
      ready.filter((m) => m.pool !== 'general'),
    );
    assert.deepEqual(spares, []);
    assert.deepEqual(pickSpare({ node: 'w1', domain: 'z1/r1' }, spares), {
      halt: "no spare ready machine in w1's failure domain z1/r1 nor in its zone z1 (0 ready machine(s) elsewhere)",
    });
  });
});
