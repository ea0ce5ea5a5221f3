/** Display formatting for hardware numbers and times. */
import type { Machine } from '../api/types.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${UNITS[i]}`;
}

export function cpuSummary(m: Pick<Machine, 'cpu'>): string {
  return m.cpu ? `${m.cpu.cores} cores` : '—';
}

export function diskSummary(m: Pick<Machine, 'disks'>): string {
  if (m.disks.length === 0) return '—';
  const total = m.disks.reduce((s, d) => s + d.sizeBytes, 0);
  return `${m.disks.length} disk${m.disks.length === 1 ? '' : 's'} · ${bytes(total)}`;
}

export function when(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  const s = Math.round((now - t) / 1000);
  if (s < -60) return `in ${Math.round(-s / 60)} min`;
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 10);
}

export function clock(iso: string): string {
  return new Date(iso).toISOString().slice(11, 19);
}

export function duration(fromIso: string | null, toIso: string | null, now = Date.now()): string {
  if (!fromIso) return '';
  const ms = (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso);
  if (ms < 1000) return `${Math.max(0, ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
