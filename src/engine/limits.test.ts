import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedSemaphores } from './limits.ts';

describe('per-key concurrency limits', () => {
  it('never lets more than the limit run for one key, even as holders come and go', async () => {
    const pool = new KeyedSemaphores(2);
    let running = 0;
    let peak = 0;
    const task = (ms: number) =>
      pool.run('bmc-1', async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
      });
    // Staggered lengths: one holder leaves while the other still holds, with no one waiting.
    const first = [task(5), task(30)];
    await new Promise((r) => setTimeout(r, 10));
    await Promise.all([...first, task(20), task(20), task(5)]);
    assert.equal(peak, 2);
  });

  it('lets different keys run independently', async () => {
    const pool = new KeyedSemaphores(1);
    let running = 0;
    let peak = 0;
    const task = (key: string) =>
      pool.run(key, async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
      });
    await Promise.all([task('a'), task('b'), task('c')]);
    assert.equal(peak, 3);
  });
});
