/**
 * CPU per lease of the DHCP server's own work, without sockets: decode → handler (pool, group
 * commit to a real SQLite store) → encode, for N relayed DORAs of distinct MACs. The packets
 * are made outside the measured parts, so only the server's side counts. CPU time (user+sys
 * of this process) is far less sensitive to other work on the machine than a throughput run,
 * so this is the number to compare before and after a change to the hot path; run it with
 * `node --cpu-prof` for the profile (docs/bench-netboot.md, DHCP profile).
 *   node bench/dhcp-pipeline.ts [--clients 60000] [--chunk 40] (≈ one 2 ms group commit at 20k/s) [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { clientPacket } from '../src/netboot/dhcp/client-packet.ts';
import { Directory } from '../src/netboot/dhcp/directory.ts';
import { EventBatcher } from '../src/netboot/dhcp/event-batcher.ts';
import { LeaseCommitter } from '../src/netboot/dhcp/group-commit.ts';
import { DhcpHandler } from '../src/netboot/dhcp/handler.ts';
import { MessageType } from '../src/netboot/dhcp/options.ts';
import { decodeDhcp, encodeDhcp } from '../src/netboot/dhcp/packet.ts';
import type { Addressed } from '../src/netboot/dhcp/reply.ts';
import { openStore } from '../src/store/open.ts';

const { values: a } = parseArgs({
  options: {
    clients: { type: 'string', default: '60000' },
    chunk: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '3' },
  },
});
const n = Number(a.clients);
const chunk = Number(a.chunk);
const SERVER = '10.234.0.1';
const GIADDR = '10.234.0.2';
const log = pino({ level: 'warn' });
const mac = (i: number) => {
  const h = i.toString(16).padStart(8, '0');
  return `02:5e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}`;
};

async function round(r: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ingot-dhcp-pipe-'));
  const store = await openStore({ dataDir });
  try {
    await store.createSubnet(
      {
        name: 'bench',
        cidr: '10.234.0.0/16',
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
        ranges: [{ kind: 'dynamic', start: '10.234.1.0', end: '10.234.255.254' }],
      },
      'bench',
    );
    const dir = new Directory(store, SERVER, log);
    await dir.refresh();
    const commit = new LeaseCommitter(store);
    const events = new EventBatcher(store, { intervalMs: 100 });
    const handler = new DhcpHandler(
      { serverIp: SERVER, httpBase: `http://${SERVER}:8081`, leaseSeconds: 3600 },
      dir,
      commit,
      events,
      log,
    );
    const wire = (i: number, type: MessageType, requestedIp?: string) =>
      encodeDhcp(
        clientPacket({
          mac: mac(i),
          type,
          giaddr: GIADDR,
          xid: i,
          requestedIp,
          serverId: requestedIp ? SERVER : undefined,
        }),
      );
    let cpu = 0;
    let acks = 0;
    for (let base = 0; base < n; base += chunk) {
      const ids = Array.from({ length: Math.min(chunk, n - base) }, (_, k) => base + k);
      const discovers = ids.map((i) => wire(i, MessageType.Discover));
      let t = process.cpuUsage();
      const offers: string[] = [];
      for (const buf of discovers) {
        const out = (await handler.handle(decodeDhcp(buf))) as Addressed[];
        for (const o of out) encodeDhcp(o.packet);
        offers.push(out[0]?.packet.yiaddr ?? '0.0.0.0');
      }
      let d = process.cpuUsage(t);
      cpu += d.user + d.system;
      const requests = ids.map((i, k) => wire(i, MessageType.Request, offers[k]));
      t = process.cpuUsage();
      await Promise.all(
        requests.map(async (buf) => {
          const out = await handler.handle(decodeDhcp(buf));
          for (const o of out) {
            encodeDhcp(o.packet);
            acks++;
          }
        }),
      );
      d = process.cpuUsage(t);
      cpu += d.user + d.system;
    }
    await commit.drain();
    await events.close();
    const perLease = cpu / acks;
    process.stdout.write(
      `round ${r}: ${acks} leases, ${(cpu / 1000).toFixed(0)} ms CPU, ${perLease.toFixed(1)} µs/lease, ` +
        `${commit.stats.batches} commits\n`,
    );
    return perLease;
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const per: number[] = [];
for (let r = 1; r <= Number(a.rounds); r++) per.push(await round(r));
per.sort((x, y) => x - y);
process.stdout.write(
  `median ${per[Math.floor(per.length / 2)].toFixed(1)} µs/lease (min ${per[0].toFixed(1)}, max ${per[per.length - 1].toFixed(1)})\n`,
);
