import { type SensorSeries, sparkLabel, sparkPath } from '../sensors.ts';

const WIDTH = 96;
const HEIGHT = 22;

/**
 * A small line chart of one sensor since the page opened (the last MAX_POINTS readings), newest
 * at the right. It has a fixed size, so points arriving never move the layout; screen readers
 * get the range and the latest value (or `label`, for a series that is not a sensor's).
 */
export function Sparkline(
  p: (
    | { series: Pick<SensorSeries, 'name' | 'unit' | 'values' | 'latest'> }
    | { values: (number | null)[]; label: string }
  ) & { width?: number; height?: number },
) {
  const W = p.width ?? WIDTH;
  const H = p.height ?? HEIGHT;
  const values = 'series' in p ? p.series.values : p.values;
  const label = 'series' in p ? sparkLabel(p.series) : p.label;
  const { d, last } = sparkPath(values, W, H);
  return (
    <svg className="sparkline" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <line className="spark-base" x1="0" x2={W} y1={H - 0.5} y2={H - 0.5} />
      {d && <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />}
      {last && <circle cx={last.x} cy={last.y} r="2" fill="currentColor" />}
    </svg>
  );
}
