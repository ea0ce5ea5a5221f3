import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAny, overlaps, parseAnyCidr, parseIpv4Span, parseIpv6 } from './cidr.ts';

describe('CIDR helpers', () => {
  it('parses compressed and full IPv6 addresses and rejects malformed ones', () => {
    assert.equal(parseIpv6('::1'), 1n);
    assert.equal(parseIpv6('fd00::'), 0xfd00n << 112n);
    assert.equal(parseIpv6('1:2:3:4:5:6:7:8'), 0x00010002000300040005000600070008n);
    assert.equal(parseIpv6('1::2::3'), null);
    assert.equal(parseIpv6('1:2:3'), null);
    assert.equal(parseIpv6('g::1'), null);
  });

  it('detects overlap within a family only', () => {
    const a = parseAnyCidr('10.0.0.0/8');
    const b = parseAnyCidr('10.1.0.0/16');
    const c = parseAnyCidr('fd00::/8');
    assert.ok(typeof a !== 'string' && typeof b !== 'string' && typeof c !== 'string');
    assert.ok(overlaps(a, b));
    assert.ok(!overlaps(a, c));
  });

  it('formats IPv6 with the first run of zero groups compressed', () => {
    assert.equal(formatAny(0xfd000010024400000000000000000000n, 6), 'fd00:10:244::');
  });

  it('reads MetalLB spans as CIDRs or ranges', () => {
    assert.deepEqual(parseIpv4Span('10.0.0.0/30'), { first: 167772160, last: 167772163 });
    assert.deepEqual(parseIpv4Span('10.0.0.5-10.0.0.6'), { first: 167772165, last: 167772166 });
    assert.match(String(parseIpv4Span('10.0.0.6-10.0.0.5')), /starts after it ends/);
  });
});
