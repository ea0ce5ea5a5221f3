/**
 * Decoder fuzzing, shared by the CI tests (test/netboot-*-fuzz.test.ts) and the long runs in
 * bench/fuzz-*.ts: a small deterministic mutator — bit flips, interesting bytes, truncation,
 * growth, splices and length-field lies, applied 1–4 at a time to a seed packet — and the loop
 * that feeds a decoder. Deterministic for a given seed, so a crash replays.
 */

import dgram from 'node:dgram';

/** xorshift32: fast, seedable, good enough to pick mutations. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x35, 0x34, 0x52, 0xaf, 0x3c];

export function mutate(seed: Buffer, r: () => number, maxLen = 1600): Buffer {
  let b = Buffer.from(seed);
  const k = 1 + Math.floor(r() * 4);
  for (let m = 0; m < k; m++) {
    const at = Math.floor(r() * Math.max(1, b.length));
    switch (Math.floor(r() * 8)) {
      case 0: // flip a bit
        if (b.length) b[at] ^= 1 << Math.floor(r() * 8);
        break;
      case 1: // an interesting byte (lengths, option codes, End, Pad)
        if (b.length) b[at] = INTERESTING[Math.floor(r() * INTERESTING.length)];
        break;
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: // grow with random bytes
        b = Buffer.concat([
          b,
          Buffer.from(Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256))),
        ]);
        break;
      case 4: // duplicate a slice somewhere else (repeated options, overlapping strings)
        {
          const len = Math.floor(r() * 32);
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        }
        break;
      case 5: // delete a slice
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(r() * 16))]);
        break;
      case 6: // random byte
        if (b.length) b[at] = Math.floor(r() * 256);
        break;
      default: // a length field that lies: the byte after an option code
        if (b.length > 1) b[Math.min(b.length - 1, at + 1)] = Math.floor(r() * 256);
    }
  }
  return b.length > maxLen ? b.subarray(0, maxLen) : b;
}

export interface FuzzResult {
  packets: number;
  accepted: number;
  rejected: number;
  /** The first ten crashes (any exception the decoder does not mean): input as hex, stack. */
  crashes: { input: string; error: string }[];
  /** Measured for the benches; the CI tests assert no timing. */
  maxMs: number;
  heapGrowthMb: number;
  seconds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Feeds `n` mutations of the seeds to `decode`: a return is accepted, an error `refused`
 * recognises is a rejection, anything else a crash. Heap growth is meaningful with --expose-gc.
 */
export function fuzzDecoder(o: {
  n: number;
  seed: number;
  seeds: readonly Buffer[];
  maxLen?: number;
  decode: (input: Buffer) => void;
  refused: (e: unknown) => boolean;
}): FuzzResult {
  const r = rng(o.seed);
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
  for (let i = 0; i < o.n; i++) {
    const input = mutate(o.seeds[Math.floor(r() * o.seeds.length)], r, o.maxLen);
    const s = performance.now();
    try {
      o.decode(input);
      res.accepted++;
    } catch (e) {
      if (o.refused(e)) res.rejected++;
      else if (res.crashes.length < 10)
        res.crashes.push({ input: input.toString('hex'), error: String((e as Error).stack ?? e) });
    }
    res.maxMs = Math.max(res.maxMs, performance.now() - s);
    res.packets++;
  }
  res.seconds = (performance.now() - t0) / 1000;
  gc?.();
  res.heapGrowthMb = (process.memoryUsage().heapUsed - heap0) / 1048576;
  return res;
}

/** Sends `n` mutations of the seeds to a UDP server on loopback, paced so it reads them. */
export async function sprayUdp(o: {
  port: number;
  host: string;
  n: number;
  seed: number;
  seeds: readonly Buffer[];
  maxLen?: number;
}): Promise<void> {
  const r = rng(o.seed);
  const s = dgram.createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, ok));
  for (let i = 0; i < o.n; i++) {
    s.send(mutate(o.seeds[Math.floor(r() * o.seeds.length)], r, o.maxLen), o.port, o.host);
    if (i % 50 === 49) await new Promise((ok) => setTimeout(ok, 1));
  }
  s.close();
}
