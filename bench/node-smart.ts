/**
 * What a deployed node's SMART report costs the rack (POST /agent/v1/node-smart: the OS token
 * checked, smartctl's JSON of two disks parsed, the day's reports read, two rows stored) against
 * the floor of the same endpoint family: POST /agent/v1/node-hello (the same token and address
 * check, one event written). Both are timed in turns in one run, over HTTPS on loopback, from
 * `--machines` deployed machines at their own loopback addresses, sequentially and then
 * `--concurrency` at a time. `node bench/node-smart.ts --machines 50 --rounds 6 --concurrency 8`
 * (docs/bench-health.md).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashBootToken, newBootToken } from '../src/netboot/http/tokens.ts';
import { machine, request, startHarness } from '../test/support/boot-http.ts';

const { values: a } = parseArgs({
  options: {
    machines: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '8' },
  },
});
const M = Number(a.machines);
const ROUNDS = Number(a.rounds);
const C = Number(a.concurrency);
if (!(M >= 1 && M <= 240)) throw new Error('--machines: 1 to 240 (one loopback address each)');

const fx = (f: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../test/fixtures/smartctl', f), 'utf8')) as Record<
    string,
    unknown
  >;
const ata = fx('ata-seagate-st3500418as.json');
const nvme = fx('nvme-samsung-970-evo-plus.json');

const h = await startHarness();
try {
  const subnet = await h.store.createSubnet(
    {
      name: `bench-${process.pid}`,
      cidr: '127.0.0.0/24',
      gateway: null,
      dns: [],
      vlan: null,
      dhcpMode: 'off',
      autoEnlist: false,
      ranges: [],
    },
    'bench',
  );
  const nodes: { ip: string; token: string; body: string }[] = [];
  for (let i = 0; i < M; i++) {
    const m = await h.store.createMachine(machine({ state: 'deployed' }), 'bench');
    const ip = `127.0.0.${10 + i}`;
    await h.store.allocateIp(subnet.id, { machineId: m.id, ip, kind: 'static' });
    const token = newBootToken();
    await h.store.setMachineOsToken(m.id, hashBootToken(token));
    const body = JSON.stringify({
      disks: [
        { ...ata, serial_number: `A-${i}` },
        { ...nvme, serial_number: `N-${i}` },
      ],
    });
    nodes.push({ ip, token, body });
  }
  const post = async (path: string, n: (typeof nodes)[number], body: string) => {
    const t0 = performance.now();
    const r = await request(`${h.http.secureUrl}${path}`, {
      method: 'POST',
      from: n.ip,
      headers: { authorization: `Bearer ${n.token}`, 'content-type': 'application/json' },
      body,
    });
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${r.body}`);
    return performance.now() - t0;
  };
  const sides = {
    smart: (n: (typeof nodes)[number]) => post('/agent/v1/node-smart', n, n.body),
    hello: (n: (typeof nodes)[number]) => post('/agent/v1/node-hello', n, '{"agent":"bench"}'),
  };
  const seq: Record<string, number[]> = { smart: [], hello: [] };
  const par: Record<string, number[]> = { smart: [], hello: [] };
  const loads: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0]);
    // In turns: each round runs both sides, the order swapped every round.
    const order = r % 2 ? (['hello', 'smart'] as const) : (['smart', 'hello'] as const);
    for (const side of order) for (const n of nodes) seq[side].push(await sides[side](n));
    for (const side of order) {
      const t0 = performance.now();
      const queue = [...nodes];
      await Promise.all(
        Array.from({ length: C }, async () => {
          for (let n = queue.shift(); n; n = queue.shift()) await sides[side](n);
        }),
      );
      par[side].push((nodes.length / (performance.now() - t0)) * 1000);
    }
  }
  const q = (xs: number[], p: number) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  console.log(
    `machines ${M}, rounds ${ROUNDS}, ${cpus().length} CPUs, load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}, report ${(nodes[0].body.length / 1024).toFixed(1)} KiB`,
  );
  console.log('| side | p50 ms | p95 ms | reports/s at concurrency', C, '(median of rounds) |');
  for (const side of ['smart', 'hello'] as const)
    console.log(
      `| ${side === 'smart' ? 'node-smart (2 disks)' : 'node-hello (floor)'} | ${q(seq[side], 0.5).toFixed(1)} | ${q(seq[side], 0.95).toFixed(1)} | ${q(par[side], 0.5).toFixed(0)} |`,
    );
} finally {
  await h.close();
}
