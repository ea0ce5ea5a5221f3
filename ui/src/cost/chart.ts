/**
 * The cost chart's geometry: one horizontal bar per option (bare metal, then each cloud option)
 * on one scale, bare metal stacked by its lines. Pure, so it is tested without a browser.
 */
import type { ScopeCost } from './api.ts';

export interface Segment {
  readonly label: string;
  readonly x: number;
  readonly width: number;
  readonly value: number;
}

export interface Bar {
  readonly label: string;
  readonly total: number;
  readonly segments: readonly Segment[];
}

/** Bars scaled so the largest total spans `width`; zero-value segments are left out. */
export function costBars(s: ScopeCost, width: number): Bar[] {
  const bare = s.bareMetal;
  const raw: { label: string; parts: [string, number][] }[] = [
    { label: 'bare metal', parts: Object.entries(bare.lines) as [string, number][] },
    ...s.options.map((o) => ({
      label: `${o.kind === 'managed-kubernetes' ? 'managed k8s' : 'cloud VMs'} ${o.term}`,
      parts: [
        ['compute', o.compute],
        ['egress', o.egress],
        ['control-plane fee', o.controlPlaneFee],
      ] as [string, number][],
    })),
  ];
  const totals = raw.map((r) => r.parts.reduce((a, [, v]) => a + v, 0));
  const max = Math.max(0, ...totals);
  const scale = max > 0 ? width / max : 0;
  return raw.map((r, i) => {
    let x = 0;
    const segments: Segment[] = [];
    for (const [label, value] of r.parts) {
      if (value <= 0) continue;
      segments.push({ label, x, width: value * scale, value });
      x += value * scale;
    }
    return { label: r.label, total: totals[i], segments };
  });
}

export function money(n: number | null | undefined, currency: string): string {
  if (n === null || n === undefined) return '–';
  // Cents where they matter (per vCPU-month, per GiB-month); whole units for totals.
  const digits = Math.abs(n) < 100 ? 2 : 0;
  return new Intl.NumberFormat('en', {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(n);
}
