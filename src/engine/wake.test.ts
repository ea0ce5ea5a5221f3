import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machineJobEnded, sleepOrWake, watchedMachines } from './wake.ts';

/** Resolves to how `p` ended: 'woken' when it resolved within `ms`, else 'slept'. */
const within = (p: Promise<void>, ms: number) =>
  Promise.race([
    p.then(() => 'woken' as const),
    new Promise<'slept'>((r) => setTimeout(() => r('slept'), ms).unref()),
  ]);

describe('sleepOrWake', () => {
  it('wakes once the named count of its machines’ jobs ended, not before, and leaves no waiter', async () => {
    const ac = new AbortController();
    const p = sleepOrWake(60_000, ac.signal, { machines: ['m-1', 'm-2', 'm-3'], count: 2 });
    machineJobEnded('m-1');
    machineJobEnded('m-9'); // another machine's job: not counted
    machineJobEnded(null);
    assert.equal(await within(p, 100), 'slept', 'one of two ended');
    machineJobEnded('m-3');
    assert.equal(await within(p, 1000), 'woken');
    assert.equal(watchedMachines(), 0);
    machineJobEnded('m-2'); // after the wake: nothing to do
  });

  it('wakes every waiter of a machine, each by its own count', async () => {
    const ac = new AbortController();
    const a = sleepOrWake(60_000, ac.signal, { machines: ['x'], count: 1 });
    const b = sleepOrWake(60_000, ac.signal, { machines: ['x', 'y'], count: 2 });
    machineJobEnded('x');
    assert.equal(await within(a, 1000), 'woken');
    assert.equal(await within(b, 50), 'slept');
    machineJobEnded('y');
    assert.equal(await within(b, 1000), 'woken');
    assert.equal(watchedMachines(), 0);
  });

  it('sleeps its ms without a wake, and ends at once on abort', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    await sleepOrWake(30, ac.signal, { machines: ['z'], count: 0 });
    assert.ok(performance.now() - t0 >= 25);
    const p = sleepOrWake(60_000, ac.signal, { machines: ['z'], count: 1 });
    ac.abort();
    assert.equal(await within(p, 1000), 'woken');
    assert.equal(watchedMachines(), 0);
    assert.equal(await within(sleepOrWake(60_000, ac.signal), 1000), 'woken', 'already aborted');
  });
});
