/**
 * DORA latency percentiles from a perfdhcp run with `-x t` (timestamps of every successful
 * exchange). perfdhcp lists DISCOVER→OFFER and REQUEST→ACK exchanges separately and does not
 * say which REQUEST followed which OFFER; it sends a REQUEST as soon as its OFFER arrives, so
 * each REQUEST is paired with the last OFFER received before it was sent. Inside a burst of
 * offers read at once that can pick a neighbour's DISCOVER (tens of µs apart at these rates),
 * which is far below the milliseconds measured. DORA = ACK received − DISCOVER sent.
 * Prints `do_p50 do_p99 ra_p50 ra_p99 dora_p50 dora_p99 n` in ms. Used by bench/dhcp-leases.sh.
 *   node bench/dhcp-latency.ts perfdhcp-output.txt
 */
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8');
const sections: Record<string, [number, number][]> = { do: [], ra: [] };
let cur: [number, number][] | null = null;
for (const line of text.split('\n')) {
  if (line.startsWith('***Timestamps for packets: DISCOVER-OFFER')) cur = sections.do;
  else if (line.startsWith('***Timestamps for packets: REQUEST-ACK')) cur = sections.ra;
  else if (line.startsWith('***')) cur = null;
  else if (cur && line.startsWith('sent / received:')) {
    const [sent, received] = line
      .slice(16)
      .split('/')
      .map((x) => Number(x.trim()) * 1000);
    if (Number.isFinite(sent) && Number.isFinite(received)) cur.push([sent, received]);
  }
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const offers = [...sections.do].sort((a, b) => a[1] - b[1]);
const requests = [...sections.ra].sort((a, b) => a[0] - b[0]);
const dora: number[] = [];
let j = -1;
for (const [sent, received] of requests) {
  while (j + 1 < offers.length && offers[j + 1][1] <= sent) j++;
  if (j >= 0) dora.push(received - offers[j][0]);
}
const d = (x: [number, number]) => x[1] - x[0];
const out = [
  pct(sections.do.map(d), 50),
  pct(sections.do.map(d), 99),
  pct(sections.ra.map(d), 50),
  pct(sections.ra.map(d), 99),
  pct(dora, 50),
  pct(dora, 99),
].map((x) => (Number.isNaN(x) ? '-' : x.toFixed(2)));
process.stdout.write(`${out.join(' ')} ${dora.length}\n`);
