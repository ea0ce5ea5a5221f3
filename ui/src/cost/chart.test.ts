import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScopeCost } from './api.ts';
import { costBars } from './chart.ts';

const scope = {
  bareMetal: {
    lines: { amortisation: 300, support: 100, power: 0, space: 0, network: 0, staff: 0, egress: 0 },
  },
  options: [{ kind: 'cloud-vms', term: 'on-demand', compute: 600, egress: 200, controlPlaneFee: 0 }],
} as unknown as ScopeCost;

describe('costBars', () => {
  it('scales every bar to the largest total and stacks the parts', () => {
    // largest total 800 spans 400 px: 0.5 px per unit
    const [bare, vms] = costBars(scope, 400);
    assert.equal(bare.total, 400);
    assert.deepEqual(
      bare.segments.map((s) => [s.label, s.x, s.width]),
      [
        ['amortisation', 0, 150],
        ['support', 150, 50],
      ],
    );
    assert.equal(vms.label, 'cloud VMs on-demand');
    assert.deepEqual(
      vms.segments.map((s) => [s.label, s.x, s.width]),
      [
        ['compute', 0, 300],
        ['egress', 300, 100],
      ],
    );
  });
});
