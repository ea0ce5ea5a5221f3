import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv4 } from './subnet.ts';

/** The pattern `parseIpv4` used to be: the plain path it must agree with. */
function byPattern(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

describe('parseIpv4', () => {
  it('reads dotted quads and refuses anything else, as the plain pattern does', () => {
    const fixed = [
      '10.0.0.1',
      '255.255.255.255',
      '0.0.0.0',
      '010.001.0.9',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.256',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.4\n',
      '1.2.3.0004',
      '1.2.3.٣',
      '',
      'a.b.c.d',
      '::1',
    ];
    for (const ip of fixed) assert.equal(parseIpv4(ip), byPattern(ip), ip);
    // Generated: digits, dots and a few other characters, 0–16 long.
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '0123456789.........2557x /';
    for (let i = 0; i < 20_000; i++) {
      let ip = '';
      for (let j = rnd(17); j > 0; j--) ip += alphabet[rnd(alphabet.length)];
      assert.equal(parseIpv4(ip), byPattern(ip), ip);
    }
    for (let i = 0; i < 5_000; i++) {
      const ip = [rnd(300), rnd(300), rnd(300), rnd(300)].join('.');
      assert.equal(parseIpv4(ip), byPattern(ip), ip);
    }
  });
});
