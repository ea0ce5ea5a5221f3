/**
 * TFTP fuzzing (test/netboot-tftp-fuzz.test.ts, bench/fuzz-tftp.ts): mutated requests, ACKs,
 * errors and OACKs through the decoder, and at a live server while a real transfer runs, which
 * must arrive intact. A crash is any exception other than TftpDecodeError.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import {
  ackPacket,
  decodeTftp,
  errorPacket,
  oackPacket,
  requestPacket,
  TftpDecodeError,
} from '../../src/netboot/tftp/packet.ts';
import { type FuzzResult, fuzzDecoder, sprayUdp } from './fuzz.ts';

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

export function fuzzTftp(n: number, seed: number): FuzzResult {
  return fuzzDecoder({
    n,
    seed,
    seeds: tftpSeeds(),
    maxLen: 700,
    decode: (input) => void decodeTftp(input),
    refused: (e) => e instanceof TftpDecodeError,
  });
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
  const fetch = fetchFile(o.port, 'snponly.efi');
  await sprayUdp({
    port: o.port,
    host: '127.0.0.1',
    n: o.n,
    seed: o.seed ?? 7,
    seeds: tftpSeeds(),
    maxLen: 700,
  });
  const got = await fetch;
  const again = await fetchFile(o.port, 'snponly.efi');
  const want = readFileSync(`${o.root}/snponly.efi`);
  return got.equals(want) && again.equals(want);
}
