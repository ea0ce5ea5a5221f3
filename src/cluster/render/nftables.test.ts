import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAny, parseAnyCidr } from '../spec/cidr.ts';
import { networkOf } from './nftables.ts';

/** The plain path (BigInt, any family) `networkOf` must agree with. */
function plain(address: string): string {
  const [ip, prefix] = address.split('/');
  const c = parseAnyCidr(`${ip}/32`);
  if (typeof c === 'string') return address;
  const size = 1n << BigInt(32 - Number(prefix));
  return `${formatAny((c.first / size) * size, 4)}/${prefix}`;
}

describe('networkOf', () => {
  it('gives the network of an address as the plain BigInt path does', () => {
    const fixed = [
      '10.10.0.14/22',
      '10.0.0.1/0',
      '10.0.0.1/32',
      '10.0.0.1/31',
      '192.168.7.9/07',
      '255.255.255.255/1',
      '10.0.0.1/24/5',
      'fd00::1/64',
      'x/24',
      '300.0.0.1/24',
    ];
    for (const a of fixed) assert.equal(networkOf(a), plain(a), a);
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 5_000; i++) {
      const a = `${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}/${rnd(33)}`;
      assert.equal(networkOf(a), plain(a), a);
    }
  });
});
