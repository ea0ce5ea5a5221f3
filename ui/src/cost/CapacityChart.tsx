import type { ClusterCapacity } from './api.ts';
import { capacityBars } from './capacity-chart.ts';

const LABEL_W = 190;
const BAR_W = 360;
const VALUE_W = 80;
const ROW_H = 18;
const GAP = 10;

const num = (n: number) => String(Math.round(n * 10) / 10);

/**
 * Per pool, CPU and memory: allocatable, requested and what is left after losing the largest
 * zone, as horizontal bars; requests the survivors cannot hold are drawn as `short`. The label
 * carries every figure for screen readers.
 */
export function CapacityChart({ c }: { c: ClusterCapacity }) {
  const groups = capacityBars(c, BAR_W);
  const width = LABEL_W + BAR_W + VALUE_W;
  const heights = groups.map((g) => g.bars.length * ROW_H + GAP);
  const height = heights.reduce((a, h) => a + h, 0) + 4;
  const label = `Capacity of cluster ${c.cluster}: ${groups
    .map(
      (g) =>
        `${g.pool} ${g.resource} ${g.bars.map((b) => `${b.label} ${num(b.value)}${b.kind === 'short' ? ' (short)' : ''}`).join(', ')}`,
    )
    .join('; ')}`;
  let y = 2;
  return (
    <figure className="cost-chart">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        {groups.map((g, gi) => {
          const top = y;
          y += heights[gi];
          return (
            <g key={`${g.pool}-${g.resource}`} transform={`translate(0 ${top})`}>
              {g.bars.map((b, i) => (
                <g key={b.label} transform={`translate(0 ${i * ROW_H})`}>
                  <text x={0} y={ROW_H - 5} className="cost-chart-label">
                    {i === 0 ? `${g.pool} ${g.resource}: ` : ''}
                    {b.label}
                  </text>
                  <rect
                    x={LABEL_W}
                    y={2}
                    width={Math.max(0.5, b.width)}
                    height={ROW_H - 5}
                    className={`cap cap-${b.kind}`}
                  >
                    <title>{`${b.label}: ${num(b.value)} ${g.resource}`}</title>
                  </rect>
                  <text x={LABEL_W + BAR_W + 6} y={ROW_H - 5} className="cost-chart-total">
                    {num(b.value)}
                  </text>
                </g>
              ))}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
