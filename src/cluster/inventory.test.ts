import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Machine } from '../core/machine.ts';
import { largestDiskGiB } from './inventory.ts';

describe('largestDiskGiB', () => {
  it('is the largest disk in GiB, 0 without disks, as Math.max over the sizes is', () => {
    const cases: number[][] = [
      [],
      [2 ** 40],
      [0, 2 ** 30, 5 * 2 ** 30],
      [-1],
      [-0],
      [Number.NaN, 1],
      [3, Number.NaN],
    ];
    for (const sizes of cases) {
      const m = { disks: sizes.map((sizeBytes) => ({ sizeBytes })) } as unknown as Machine;
      assert.equal(largestDiskGiB(m), Math.max(0, ...sizes) / 2 ** 30, String(sizes));
    }
  });
});
