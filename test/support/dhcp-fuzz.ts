/**
 * DHCP fuzzing (test/netboot-dhcp-fuzz.test.ts, bench/fuzz-dhcp.ts): mutations of real client
 * packets through the decoder and everything that reads a decoded packet (classification, boot
 * decision, reply encoding), and at a live server on loopback. A crash is any exception other
 * than DhcpDecodeError.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { bootPlan, classify } from '../../src/netboot/dhcp/boot.ts';
import { clientPacket } from '../../src/netboot/dhcp/client-packet.ts';
import { type DhcpServer, startDhcpServer } from '../../src/netboot/dhcp/index.ts';
import { MessageType, Opt } from '../../src/netboot/dhcp/options.ts';
import { DhcpDecodeError, decodeDhcp, encodeDhcp, macOf } from '../../src/netboot/dhcp/packet.ts';
import { reply } from '../../src/netboot/dhcp/reply.ts';
import { openStore } from '../../src/store/open.ts';
import { type FuzzResult, fuzzDecoder, sprayUdp } from './fuzz.ts';

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

/** Decodes `n` mutated packets and runs each accepted one through the pure server path. */
export function fuzzDhcp(n: number, seed: number): FuzzResult {
  return fuzzDecoder({
    n,
    seed,
    seeds: dhcpSeeds(),
    decode(input) {
      const p = decodeDhcp(input);
      const mac = macOf(p) ?? '00:00:00:00:00:00';
      const plan = bootPlan(p, classify(p), { httpBase: 'http://10.0.0.1:8081', mac });
      encodeDhcp(reply(p, MessageType.Offer, { serverIp: '10.0.0.1' }, { yiaddr: '10.0.0.9', plan }));
    },
    refused: (e) => e instanceof DhcpDecodeError,
  });
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
  await sprayUdp({ port: o.port, host: o.serverIp, n: o.n, seed: o.seed ?? 7, seeds: dhcpSeeds() });
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
