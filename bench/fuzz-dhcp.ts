/**
 * Fuzzes the DHCP decoder and everything that reads a decoded packet (classification, boot
 * decision, reply encoding) with mutated real packets. A crash is any exception other than
 * DhcpDecodeError; a hang is one packet taking more than 1 s (GC and preemption on a busy machine reach 100 ms); memory must stay bounded.
 *   node --expose-gc bench/fuzz-dhcp.ts [--n 1000000] [--seed 1]
 * Imported by test/netboot-dhcp-fuzz.test.ts for a short run.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { type DhcpServer, startDhcpServer } from '../src/netboot/dhcp/index.ts';
import { openStore } from '../src/store/open.ts';
import { bootPlan, classify } from '../src/netboot/dhcp/boot.ts';
import { clientPacket } from '../src/netboot/dhcp/client-packet.ts';
import { MessageType, Opt } from '../src/netboot/dhcp/options.ts';
import { DhcpDecodeError, decodeDhcp, encodeDhcp, macOf } from '../src/netboot/dhcp/packet.ts';
import { reply } from '../src/netboot/dhcp/reply.ts';
import { mutate, rng } from './fuzz-mutate.ts';

export interface FuzzResult {
  packets: number;
  accepted: number;
  rejected: number;
  crashes: { input: string; error: string }[];
  maxMs: number;
  heapGrowthMb: number;
  seconds: number;
}

/** Seeds: every client profile and message type, relayed and direct, with option 82. */
export function dhcpSeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  const profiles = ['bios-pxe', 'uefi-pxe', 'ipxe', 'uefi-http', 'plain'] as const;
  const types = [
    MessageType.Discover,
    MessageType.Request,
    MessageType.Decline,
    MessageType.Release,
    MessageType.Inform,
  ];
  for (const profile of profiles) {
    for (const type of types) {
      seeds.push(
        encodeDhcp(
          clientPacket({
            mac: '52:54:00:12:34:56',
            type,
            profile,
            requestedIp: '10.0.0.9',
            serverId: '10.0.0.1',
          }),
        ),
      );
      seeds.push(
        encodeDhcp(
          clientPacket({
            mac: '52:54:00:12:34:57',
            type,
            profile,
            giaddr: '10.1.0.1',
            relayInfo: Buffer.from([1, 2, 0, 1, 2, 3, 1, 2, 3]),
          }),
        ),
      );
    }
  }
  const overloaded = clientPacket({ mac: '52:54:00:12:34:58', type: MessageType.Discover, profile: 'ipxe' });
  overloaded.options.set(Opt.Overload, Buffer.from([3]));
  seeds.push(encodeDhcp(overloaded));
  return seeds;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Decodes `n` mutated packets and runs each accepted one through the pure server path. */
export function fuzzDhcp(n: number, seed = 1): FuzzResult {
  const r = rng(seed);
  const seeds = dhcpSeeds();
  const res: FuzzResult = {
    packets: 0,
    accepted: 0,
    rejected: 0,
    crashes: [],
    maxMs: 0,
    heapGrowthMb: 0,
    seconds: 0,
  };
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const input = mutate(seeds[Math.floor(r() * seeds.length)], r);
    const s = performance.now();
    try {
      const p = decodeDhcp(input);
      const mac = macOf(p) ?? '00:00:00:00:00:00';
      const client = classify(p);
      const plan = bootPlan(p, client, { httpBase: 'http://10.0.0.1:8081', mac });
      encodeDhcp(reply(p, MessageType.Offer, { serverIp: '10.0.0.1' }, { yiaddr: '10.0.0.9', plan }));
      res.accepted++;
    } catch (e) {
      if (e instanceof DhcpDecodeError) res.rejected++;
      else if (res.crashes.length < 10)
        res.crashes.push({ input: input.toString('hex'), error: String((e as Error).stack ?? e) });
      else res.crashes.length++;
    }
    const ms = performance.now() - s;
    if (ms > res.maxMs) res.maxMs = ms;
    res.packets++;
  }
  res.seconds = (performance.now() - t0) / 1000;
  gc?.();
  res.heapGrowthMb = (process.memoryUsage().heapUsed - heap0) / 1048576;
  return res;
}

/**
 * Throws `n` mutated packets at a running server (loopback), then checks it still answers
 * a valid INFORM (unicast to ciaddr:68, so the probe needs no broadcast). Returns whether it did.
 */
export async function fuzzLiveDhcp(o: {
  port: number;
  serverIp: string;
  probeIp: string;
  n: number;
  seed?: number;
}): Promise<boolean> {
  const r = rng(o.seed ?? 7);
  const seeds = dhcpSeeds();
  const s = dgram.createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, ok));
  for (let i = 0; i < o.n; i++) {
    s.send(mutate(seeds[Math.floor(r() * seeds.length)], r), o.port, o.serverIp);
    if (i % 50 === 49) await new Promise((ok) => setTimeout(ok, 1)); // pace: let the server read it
  }
  s.close();
  const probe = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((ok) => probe.bind(68, o.probeIp, ok));
  try {
    const inform = encodeDhcp(
      clientPacket({ mac: '02:f0:00:00:00:01', type: MessageType.Inform, ciaddr: o.probeIp }),
    );
    for (let attempt = 0; attempt < 20; attempt++) {
      const answered = new Promise<boolean>((ok) => {
        const t = setTimeout(() => ok(false), 500);
        probe.once('message', () => {
          clearTimeout(t);
          ok(true);
        });
      });
      probe.send(inform, o.port, o.serverIp);
      if (await answered) return true;
    }
    return false;
  } finally {
    probe.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      live: { type: 'string', default: '100000' },
    },
  });
  const res = fuzzDhcp(Number(values.n), Number(values.seed));
  const { crashes, ...summary } = res;
  const live = Number(values.live) > 0 ? await liveRun(Number(values.live)) : null;
  console.log(JSON.stringify({ fuzzer: 'dhcp', ...summary, crashes: crashes.length, live }, null, 1));
  for (const c of crashes.slice(0, 3)) console.log(c.error, '\ninput:', c.input);
  process.exit(
    crashes.length || res.maxMs > 1000 || res.heapGrowthMb > 64 || live?.answering === false ? 1 : 0,
  );
}

/** A DHCP server on 127.0.0.1 with a throwaway SQLite store (the bench's and the CI test's target). */
export async function startLoopbackDhcp(): Promise<{ server: DhcpServer; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ingot-fuzz-dhcp-'));
  const store = await openStore({ dataDir: dir });
  const cleanup = async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await store.createSubnet(
      {
        name: 'lo',
        cidr: '127.0.0.0/24',
        gateway: null,
        dns: [],
        vlan: null,
        dhcpMode: 'full',
        autoEnlist: false,
        ranges: [{ kind: 'dynamic', start: '127.0.0.100', end: '127.0.0.200' }],
      },
      'fuzz',
    );
    const server = await startDhcpServer({
      store,
      bind: { address: '127.0.0.1', port: 0 },
      serverIp: '127.0.0.1',
      httpBase: 'http://127.0.0.1:8081',
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2)),
    });
    return {
      server,
      close: async () => {
        await server.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function liveRun(n: number) {
  const { server, close } = await startLoopbackDhcp();
  try {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const answering = await fuzzLiveDhcp({
      port: server.port,
      serverIp: '127.0.0.1',
      probeIp: '127.0.0.9',
      n,
    });
    return {
      packets: n,
      seconds: (performance.now() - t0) / 1000,
      answering,
      rssGrowthMb: (process.memoryUsage().rss - rss0) / 1048576,
      stats: server.stats,
    };
  } finally {
    await close();
  }
}
