/** A small line chart for one sensor; the latest value is also printed as text. */
export function Sparkline({
  name,
  unit,
  points,
}: {
  name: string;
  unit: string;
  points: { at: string; value: number }[];
}) {
  const w = 160;
  const h = 36;
  const values = points.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const d = points
    .map(
      (p, i) =>
        `${i === 0 ? 'M' : 'L'}${((i / Math.max(1, points.length - 1)) * w).toFixed(1)},${(h - 2 - ((p.value - min) / span) * (h - 4)).toFixed(1)}`,
    )
    .join(' ');
  const last = values[values.length - 1];
  return (
    <figure className="sparkline">
      <figcaption>
        {name} <strong>{`${last}${unit ? ` ${unit}` : ''}`}</strong>
      </figcaption>
      <svg
        width={w}
        height={h}
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`${name}: ${points.length} readings from ${min} to ${max} ${unit}, latest ${last}`}
      >
        <path d={d} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
    </figure>
  );
}
