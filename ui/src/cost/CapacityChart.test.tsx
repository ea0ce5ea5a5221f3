import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, render, screen } from '@testing-library/react';
import type { ClusterCapacity } from './api.ts';
import { CapacityChart } from './CapacityChart.tsx';
import { capacityBars } from './capacity-chart.ts';

const loss = (name: string, cpu: number, memoryGiB: number, req: { cpu: number; memoryGiB: number }) => ({
  domain: 'zone' as const,
  name,
  nodesLost: 1,
  remaining: { cpu, memoryGiB },
  headroom: { cpu: cpu - req.cpu, memoryGiB: memoryGiB - req.memoryGiB },
  holds: cpu >= req.cpu && memoryGiB >= req.memoryGiB,
});
const general = { cpu: 5, memoryGiB: 8 };
const batch = { cpu: 4, memoryGiB: 16 };
const c = {
  cluster: 'cc',
  requestsKind: 'kubernetes',
  requestsBasis: 'the API',
  tolerate: [],
  whatIf: [],
  recommendations: [],
  pools: [
    {
      pool: 'general',
      nodes: 2,
      allocatable: { cpu: 32, memoryGiB: 64 },
      requested: general,
      losses: [],
      worst: { zone: loss('z1', 0, 0, general), rack: null },
      spares: [],
      recommendation: '',
    },
    {
      pool: 'batch',
      nodes: 2,
      allocatable: { cpu: 16, memoryGiB: 128 },
      requested: batch,
      losses: [],
      worst: { zone: loss('z2', 8, 64, batch), rack: null },
      spares: [],
      recommendation: '',
    },
  ],
} as unknown as ClusterCapacity;

describe('capacity chart', () => {
  afterEach(cleanup);

  it('scales each resource to its largest figure and marks the requests the survivors cannot hold', () => {
    const g = capacityBars(c, 360);
    // CPU: largest 32 → 360 / 32 = 11.25 px per CPU. general: 32 → 360, 5 → 56.25, left 0 (short);
    // batch: 16 → 180, 4 → 45, left 8 → 90 (holds)
    // GiB: largest 128 → 2.8125 px per GiB. general: 64 → 180, 8 → 22.5, left 0 (short);
    // batch: 128 → 360, 16 → 45, left 64 → 180
    assert.deepEqual(
      g.map((x) => [x.pool, x.resource, x.bars.map((b) => [b.kind, b.width])]),
      [
        [
          'general',
          'CPU',
          [
            ['allocatable', 360],
            ['short', 56.25],
            ['left', 0],
          ],
        ],
        [
          'general',
          'GiB',
          [
            ['allocatable', 180],
            ['short', 22.5],
            ['left', 0],
          ],
        ],
        [
          'batch',
          'CPU',
          [
            ['allocatable', 180],
            ['requested', 45],
            ['left', 90],
          ],
        ],
        [
          'batch',
          'GiB',
          [
            ['allocatable', 360],
            ['requested', 45],
            ['left', 180],
          ],
        ],
      ],
    );
  });

  it('draws a bar per figure and names them all for a screen reader', () => {
    render(<CapacityChart c={c} />);
    const img = screen.getByRole('img');
    const label = img.getAttribute('aria-label') ?? '';
    assert.match(
      label,
      /^Capacity of cluster cc: general CPU allocatable 32, requested 5 \(short\), after losing zone z1 0;/,
    );
    assert.match(label, /batch GiB allocatable 128, requested 16, after losing zone z2 64$/);
    // 4 groups × 3 bars
    assert.equal(img.querySelectorAll('rect').length, 12);
    assert.equal(img.querySelectorAll('rect.cap-short').length, 2);
  });
});
