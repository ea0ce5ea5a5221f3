/**
 * The DATA packets of a file: headers with the (wrapping) block number, payloads in order, the
 * short or empty last block, and the layout kept for the next transfer at the same blksize only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataPackets } from './blocks.ts';
import { decodeTftp, Op } from './packet.ts';

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 0xff));

describe('TFTP DATA packets laid out once', () => {
  it('cuts a file into DATA packets whose payloads put back together are the file', () => {
    const data = bytes(100);
    const p = dataPackets(data, 8);
    assert.equal(p.count, 13);
    const parts: Buffer[] = [];
    for (let n = 1; n <= p.count; n++) {
      const d = decodeTftp(p.packet(n));
      assert.equal(d.op, Op.Data);
      if (d.op !== Op.Data) return;
      assert.equal(d.block, n);
      assert.equal(d.data.length, n < 13 ? 8 : 4);
      parts.push(d.data);
    }
    assert.deepEqual(Buffer.concat(parts), data);
  });

  it('ends a file that fills its last block exactly with an empty block, and an empty file too', () => {
    const p = dataPackets(bytes(16), 8);
    assert.equal(p.count, 3);
    assert.deepEqual(p.packet(3), Buffer.from([0, Op.Data, 0, 3]));
    const empty = dataPackets(Buffer.alloc(0), 512);
    assert.equal(empty.count, 1);
    assert.deepEqual(empty.packet(1), Buffer.from([0, Op.Data, 0, 1]));
  });

  it('gives the right packet whichever block is asked for first', () => {
    const data = bytes(100);
    const p = dataPackets(data, 8);
    const last = decodeTftp(p.packet(13));
    assert.deepEqual(last.op === Op.Data && [last.block, last.data], [13, data.subarray(96)]);
    const first = decodeTftp(p.packet(1));
    assert.deepEqual(first.op === Op.Data && [first.block, first.data], [1, data.subarray(0, 8)]);
  });

  it('numbers blocks past 65535 modulo 65536, carrying the right bytes', () => {
    const data = bytes(70_000);
    const p = dataPackets(data, 1);
    const d = decodeTftp(p.packet(65_537));
    assert.equal(d.op === Op.Data && d.block, 1);
    assert.deepEqual(d.op === Op.Data && d.data, data.subarray(65_536, 65_537));
  });

  it('reuses the layout for the same file and blksize, and lays out again for another blksize', () => {
    const data = bytes(50);
    const a = dataPackets(data, 8);
    assert.equal(dataPackets(data, 8), a);
    const b = dataPackets(data, 16);
    assert.notEqual(b, a);
    assert.equal(b.count, 4);
    assert.equal(dataPackets(bytes(50), 8) === a, false, 'another buffer, even with the same bytes');
  });
});
