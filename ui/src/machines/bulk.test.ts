import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../api/client.ts';
import type { ActionResult } from '../api/types.ts';
import { runBulk, summarise } from './bulk.ts';

const machines = Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, hostname: `node-${i}` }));

describe('bulk actions', () => {
  it('should show the failure count for 2 machines with the first error', async () => {
    const report = await runBulk(machines, 'commission', async (id) => {
      if (id === 'm3' || id === 'm7')
        throw new ApiError(409, {
          code: 'INGOT_INVALID_TRANSITION',
          message: 'BMC unreachable',
          details: {},
        });
      return {} as ActionResult;
    });
    assert.equal(summarise(report), 'commission: accepted for 8, failed for 2 machines: BMC unreachable');
    assert.deepEqual(
      report.outcomes.filter((o) => !o.ok).map((o) => o.hostname),
      ['node-3', 'node-7'],
    );
  });

  it('says accepted for all when nothing failed, and failed for all when nothing was accepted', async () => {
    assert.equal(
      summarise(await runBulk(machines.slice(0, 1), 'deploy', async () => ({}) as ActionResult)),
      'deploy: accepted for 1 machine',
    );
    const none = await runBulk(machines.slice(0, 3), 'release', async () => {
      throw new Error('cannot release node while ready');
    });
    assert.equal(summarise(none), 'release: failed for 3 machines: cannot release node while ready');
  });

  it('never has more requests in flight than the concurrency limit', async () => {
    let inFlight = 0;
    let peak = 0;
    await runBulk(
      machines,
      'power-on',
      async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return {} as ActionResult;
      },
      { concurrency: 3 },
    );
    assert.equal(peak, 3);
  });
});
