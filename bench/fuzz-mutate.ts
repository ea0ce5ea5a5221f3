/**
 * A small deterministic mutator for the decoder fuzzers (bench/fuzz-dhcp.ts, fuzz-tftp.ts):
 * bit flips, interesting bytes, truncation, growth, splices and length-field lies, applied
 * 1–4 at a time to a seed packet. Deterministic for a given seed, so a crash replays.
 */

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
