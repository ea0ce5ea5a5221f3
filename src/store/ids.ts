import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
let lastTime = -1;
let lastRand = 0n;

/**
 * Time-ordered ids (48-bit ms timestamp + 80 random bits, base32, like monotonic ULID) with a
 * short prefix naming the kind: `m-01jd…` for machines. Within one millisecond the random part
 * is incremented, so ids from one process sort in creation order — keyset pagination relies on it.
 */
export function newId(prefix: string, now = Date.now()): string {
  let rand: bigint;
  if (now <= lastTime) {
    rand = (lastRand + 1n) & ((1n << 80n) - 1n);
    now = lastTime;
  } else {
    rand = BigInt(`0x${randomBytes(10).toString('hex')}`) >> 1n; // leave headroom for increments
  }
  lastTime = now;
  lastRand = rand;
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let r = '';
  let v = rand;
  for (let i = 0; i < 16; i++) {
    r = ALPHABET[Number(v & 31n)] + r;
    v >>= 5n;
  }
  return `${prefix}-${time}${r}`;
}
