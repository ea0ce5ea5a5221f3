import { type SensorSeries, sparkLabel, sparkPath } from '../sensors.ts';

const W = 96;
const H = 22;

/**
 * A small line chart of one sensor since the page opened (the last MAX_POINTS readings), newest
 * at the right. It has a fixed size, so points arriving never move the layout; screen readers
 * get the range and the latest value.
 */
export function Sparkline({ series }: { series: Pick<SensorSeries, 'name' | 'unit' | 'values' | 'latest'> }) {
  const { d, last } = sparkPath(series.values, W, H);
  return (
    <svg
      className="sparkline"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={sparkLabel(series)}
    >
      <line className="spark-base" x1="0" x2={W} y1={H - 0.5} y2={H - 0.5} />
      {d && <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />}
      {last && <circle cx={last.x} cy={last.y} r="2" fill="currentColor" />}
    </svg>
  );
}
