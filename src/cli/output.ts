/** Output for people (aligned tables) and for scripts (`-o json|yaml`). */
import { stringify } from 'yaml';
import { invalid } from '../core/errors.ts';

export type Format = 'table' | 'json' | 'yaml' | 'csv';

/** `csv` only for the commands that print one (`allowCsv`: ingot cost). */
export function parseFormat(v: string | undefined, allowCsv = false): Format {
  if (v === undefined || v === 'table' || v === 'json' || v === 'yaml') return v ?? 'table';
  if (v === 'csv' && allowCsv) return v;
  throw invalid('-o', `"${v}" is not a format; use table, json${allowCsv ? ', yaml or csv' : ' or yaml'}`);
}

export { csv } from '../core/csv.ts';

export function printData(data: unknown, format: Format): boolean {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return true;
  }
  if (format === 'yaml') {
    process.stdout.write(stringify(data));
    return true;
  }
  return false;
}

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

export function bytes(n: number | null | undefined): string {
  if (!n) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 10 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
