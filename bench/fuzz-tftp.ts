/**
 * Fuzzes the TFTP decoder with mutated requests, ACKs, errors and OACKs, then (live) throws
 * mutated packets at a running server while a real transfer runs, and checks the transfer
 * arrives intact and the server still serves. A crash is any exception other than
 * TftpDecodeError; a hang is one packet over 1 s (on a busy machine GC and preemption alone reach 100 ms).
 *   node --expose-gc bench/fuzz-tftp.ts [--n 1000000] [--seed 1] [--live 100000]
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startTftpServer } from '../src/netboot/tftp/index.ts';
import {
  ackPacket,
  decodeTftp,
  errorPacket,
  oackPacket,
  requestPacket,
  TftpDecodeError,
} from '../src/netboot/tftp/packet.ts';
import type { FuzzResult } from './fuzz-dhcp.ts';
import { mutate, rng } from './fuzz-mutate.ts';

export function tftpSeeds(): Buffer[] {
  const opts = new Map([
    ['blksize', '1468'],
    ['tsize', '0'],
    ['windowsize', '8'],
    ['timeout', '1'],
  ]);
  return [
    requestPacket('undionly.kpxe'),
    requestPacket('snponly.efi', opts),
    requestPacket('../../etc/passwd', opts),
    ackPacket(0),
    ackPacket(65535),
    errorPacket(0, 'cancelled'),
    oackPacket(opts),
  ];
}

const gc = (globalThis as { gc?: () => void }).gc;

export function fuzzTftp(n: number, seed = 1): FuzzResult {
  const r = rng(seed);
  const seeds = tftpSeeds();
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
    const input = mutate(seeds[Math.floor(r() * seeds.length)], r, 700);
    const s = performance.now();
    try {
      decodeTftp(input);
      res.accepted++;
    } catch (e) {
      if (e instanceof TftpDecodeError) res.rejected++;
      else if (res.crashes.length < 10)
        res.crashes.push({ input: input.toString('hex'), error: String((e as Error).stack ?? e) });
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

/** Fetches `file` with a minimal client (blksize 1468), for the live fuzz check. */
export function fetchFile(port: number, file: string): Promise<Buffer> {
  const s = dgram.createSocket('udp4');
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      s.close();
      reject(new Error('fetch timed out'));
    }, 20_000);
    s.on('message', (m, from) => {
      const p = decodeTftp(m);
      if (p.op === 6) s.send(ackPacket(0), from.port, from.address);
      else if (p.op === 3) {
        if (p.block === (parts.length + 1) % 65536) parts.push(Buffer.from(p.data));
        s.send(ackPacket(p.block), from.port, from.address);
        if (p.data.length < 1468) {
          clearTimeout(t);
          s.close();
          resolve(Buffer.concat(parts));
        }
      } else if (p.op === 5) {
        clearTimeout(t);
        s.close();
        reject(new Error(`TFTP error ${p.code}: ${p.message}`));
      }
    });
    s.send(requestPacket(file, new Map([['blksize', '1468']])), port, '127.0.0.1');
  });
}

/** Sends `n` mutated packets at the server while a transfer runs; true when it arrived intact. */
export async function fuzzLiveTftp(o: {
  port: number;
  root: string;
  n: number;
  seed?: number;
}): Promise<boolean> {
  const r = rng(o.seed ?? 7);
  const seeds = tftpSeeds();
  const fetch = fetchFile(o.port, 'snponly.efi');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, ok));
  for (let i = 0; i < o.n; i++) {
    s.send(mutate(seeds[Math.floor(r() * seeds.length)], r, 700), o.port, '127.0.0.1');
    if (i % 50 === 49) await new Promise((ok) => setTimeout(ok, 1)); // pace: let the server read it
  }
  s.close();
  const got = await fetch;
  const again = await fetchFile(o.port, 'snponly.efi');
  const want = readFileSync(`${o.root}/snponly.efi`);
  return got.equals(want) && again.equals(want);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      live: { type: 'string', default: '100000' },
    },
  });
  const res = fuzzTftp(Number(values.n), Number(values.seed));
  let live: Record<string, unknown> | null = null;
  if (Number(values.live) > 0) {
    const server = await startTftpServer({
      root: '/usr/lib/ipxe',
      bind: { address: '127.0.0.1', port: 0 },
      logger: pino({ level: 'silent' }),
    });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const intact = await fuzzLiveTftp({ port: server.port, root: '/usr/lib/ipxe', n: Number(values.live) });
    live = {
      packets: Number(values.live),
      seconds: (performance.now() - t0) / 1000,
      intact,
      rssGrowthMb: (process.memoryUsage().rss - rss0) / 1048576,
      stats: { ...server.stats },
    };
    await server.close();
  }
  const { crashes, ...summary } = res;
  console.log(JSON.stringify({ fuzzer: 'tftp', ...summary, crashes: crashes.length, live }, null, 1));
  for (const c of crashes.slice(0, 3)) console.log(c.error, '\ninput:', c.input);
  process.exit(crashes.length || res.maxMs > 1000 || res.heapGrowthMb > 64 || live?.intact === false ? 1 : 0);
}
