import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PowerState } from '../core/machine.ts';
import { waitForPower } from './power-wait.ts';

/** A BMC answering `states` in turn (the last one from then on), counting its reads. */
function scripted(...states: PowerState[]) {
  return {
    reads: 0,
    async powerState(): Promise<PowerState> {
      return states[Math.min(this.reads++, states.length - 1)];
    },
  };
}

describe('waitForPower', () => {
  it('reads until the BMC reports the state asked for', async () => {
    const bmc = scripted('on', 'unknown', 'off');
    assert.deepEqual(await waitForPower(bmc, 'off', { timeoutMs: 1_000, intervalMs: 1 }), {
      reached: true,
      last: 'off',
    });
    assert.equal(bmc.reads, 3);
  });

  it('gives up after the timeout with the last state read', async () => {
    const bmc = scripted('on');
    const t = Date.now();
    assert.deepEqual(await waitForPower(bmc, 'off', { timeoutMs: 60, intervalMs: 10 }), {
      reached: false,
      last: 'on',
    });
    assert.ok(Date.now() - t >= 60, 'it waited the whole timeout');
    // Again after each interval, not in a busy loop (a late timer on a loaded machine reads less).
    assert.ok(bmc.reads >= 2 && bmc.reads <= 12, `reads once an interval (${bmc.reads})`);
  });

  it('reads once with no timeout, and a read that throws ends the wait with its error', async () => {
    const bmc = scripted('on');
    assert.deepEqual(await waitForPower(bmc, 'on', { timeoutMs: 0, intervalMs: 1 }), {
      reached: true,
      last: 'on',
    });
    const broken = {
      async powerState(): Promise<PowerState> {
        throw new Error('BMC unreachable');
      },
    };
    await assert.rejects(waitForPower(broken, 'off', { timeoutMs: 100, intervalMs: 1 }), /BMC unreachable/);
  });
});
