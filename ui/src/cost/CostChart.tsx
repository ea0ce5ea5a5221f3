import type { ScopeCost } from './api.ts';
import { costBars, money } from './chart.ts';

const LABEL_W = 170;
const BAR_W = 420;
const TOTAL_W = 90;
const ROW_H = 26;

/**
 * Monthly cost per option as horizontal bars on one scale: bare metal stacked by its lines
 * (amortisation, support, power…), each cloud option by compute, egress and the control-plane
 * fee. Screen readers get every total in the label; the table beside it has the numbers.
 */
export function CostChart({ scope, currency }: { scope: ScopeCost; currency: string }) {
  const bars = costBars(scope, BAR_W);
  const width = LABEL_W + BAR_W + TOTAL_W;
  const height = bars.length * ROW_H + 4;
  const label = `Monthly cost of the ${scope.scope === 'region' ? 'region' : `${scope.scope} ${scope.name}`}: ${bars
    .map((b) => `${b.label} ${money(b.total, currency)}`)
    .join(', ')}`;
  const legend = [...new Set(bars.flatMap((b) => b.segments.map((s) => s.label)))];
  return (
    <figure className="cost-chart">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        {bars.map((b, i) => (
          <g key={b.label} transform={`translate(0 ${i * ROW_H + 2})`}>
            <text x={0} y={ROW_H / 2 + 4} className="cost-chart-label">
              {b.label}
            </text>
            {b.segments.map((s) => (
              <rect
                key={s.label}
                x={LABEL_W + s.x}
                y={3}
                width={Math.max(0.5, s.width)}
                height={ROW_H - 8}
                className={`seg seg-${s.label.replaceAll(' ', '-')}`}
              >
                <title>{`${s.label}: ${money(s.value, currency)}`}</title>
              </rect>
            ))}
            <text x={LABEL_W + BAR_W + 6} y={ROW_H / 2 + 4} className="cost-chart-total">
              {money(b.total, currency)}
            </text>
          </g>
        ))}
      </svg>
      <figcaption className="cost-legend">
        {legend.map((l) => (
          <span key={l}>
            <svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" className={`seg seg-${l.replaceAll(' ', '-')}`} />
            </svg>{' '}
            {l}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
