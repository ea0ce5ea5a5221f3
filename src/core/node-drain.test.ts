import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIngotError } from './errors.ts';
import { attemptMs, drainLeftMs, drainParams, newDrainProgress, retryDelayMs } from './node-drain.ts';

describe('a drain operation’s parameters and timing', () => {
  it('fills in the defaults (300 s, no force) and keeps a reason', () => {
    assert.deepEqual(drainParams({}), { timeoutSeconds: 300, force: false });
    assert.deepEqual(drainParams({ timeoutSeconds: 3600, force: true, reason: 'disk sdb failing' }), {
      timeoutSeconds: 3600,
      force: true,
      reason: 'disk sdb failing',
    });
  });

  it('refuses a timeout outside 1..3600 or not whole, and an empty or long reason, naming the field', () => {
    for (const t of [0, 3601, 1.5, Number.NaN]) {
      assert.throws(
        () => drainParams({ timeoutSeconds: t }),
        (e) => isIngotError(e) && /^timeoutSeconds: .* from 1 to 3600/.test(e.message),
      );
    }
    for (const reason of ['', 'x'.repeat(501)])
      assert.throws(
        () => drainParams({ reason }),
        (e) => isIngotError(e) && /^reason: must be 1 to 500 characters/.test(e.message),
      );
  });

  it('counts the time left from the start, and an attempt lasts what is left within [1 s, the cap]', () => {
    const p = newDrainProgress('2026-12-04T04:00:00.000Z');
    const start = Date.parse(p.startedAt);
    assert.equal(drainLeftMs(p, 300, start + 60_000), 240_000);
    assert.ok(drainLeftMs(p, 300, start + 301_000) < 0);
    assert.equal(attemptMs(240_000, 30_000), 30_000);
    assert.equal(attemptMs(5_000, 30_000), 5_000);
    assert.equal(attemptMs(-10, 30_000), 1000);
  });

  it('backs off doubling from the base up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 100].map((n) => retryDelayMs(n, 1000, 30_000)),
      [1000, 2000, 4000, 8000, 30_000, 30_000],
    );
  });
});
