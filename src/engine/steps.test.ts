/**
 * The power steps against a BMC that cycles the way real ones do: off at once, on again only
 * after its power-cycle interval. A cycle step returns once the machine is on again, so a
 * power-off right after it is sent and holds (CI once saw ipmi_sim power a commissioned machine
 * back on after the power-off step had read "off" mid-cycle and skipped it). A power-off is
 * done once the BMC reports off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BmcDriver, PowerAction } from '../bmc/driver.ts';
import type { IngotError } from '../core/errors.ts';
import type { PowerState } from '../core/machine.ts';
import type { StepContext } from './steps.ts';
import { POLL, STEPS } from './steps.ts';

/**
 * Cycles asynchronously: off at once, on again `intervalMs` later (or never); a force-off
 * reported `offMs` later (or never).
 */
class SlowCycleBmc {
  power: 'on' | 'off' = 'on';
  readonly calls: string[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly intervalMs: number | null;
  readonly offMs: number | null;
  constructor(intervalMs: number | null, offMs: number | null = 0) {
    this.intervalMs = intervalMs;
    this.offMs = offMs;
  }
  #later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
  async powerState(): Promise<PowerState> {
    return this.power;
  }
  async setPower(action: PowerAction): Promise<void> {
    this.calls.push(action);
    if (action === 'on') this.power = 'on';
    else if (action === 'cycle') {
      this.power = 'off';
      if (this.intervalMs !== null) this.#later(this.intervalMs, () => (this.power = 'on'));
    } else if (this.offMs === 0) this.power = 'off';
    else if (this.offMs !== null) this.#later(this.offMs, () => (this.power = 'off'));
  }
  async setBootDevice(): Promise<void> {
    this.calls.push('boot');
  }
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
  }
  driver(): BmcDriver {
    return {
      driver: 'slow-cycle',
      target: 'slow-cycle://test',
      powerState: () => this.powerState(),
      power: (a: PowerAction) => this.setPower(a),
      setBootDevice: () => this.setBootDevice(),
    } as unknown as BmcDriver;
  }
}

function ctx(bmc: SlowCycleBmc): StepContext {
  return { bmc: async () => bmc.driver() } as unknown as StepContext;
}

describe('power steps with a BMC that cycles asynchronously', () => {
  const saved = { ...POLL };
  const bmcs: SlowCycleBmc[] = [];
  const slow = (intervalMs: number | null, offMs: number | null = 0) => {
    const b = new SlowCycleBmc(intervalMs, offMs);
    bmcs.push(b);
    return b;
  };
  before(() => {
    POLL.powerMs = 5;
    POLL.powerSettleMs = 500;
  });
  after(() => {
    Object.assign(POLL, saved);
    for (const b of bmcs) b.stop();
  });

  it('power-cycle returns once the BMC reports the machine on again', async () => {
    const bmc = slow(60);
    const out = await STEPS['power-cycle'].run(ctx(bmc));
    assert.equal(bmc.power, 'on', 'the machine is on when the step is done');
    assert.deepEqual(out, { kind: 'done', message: 'power-cycled', machine: { powerState: 'on' } });
  });

  it('a power-off right after a network boot that cycled is sent, and the machine stays off', async () => {
    const bmc = slow(60);
    await STEPS.boot.run(ctx(bmc));
    await STEPS['power-off'].run(ctx(bmc));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(bmc.calls, ['boot', 'cycle', 'force-off']);
    assert.equal(bmc.power, 'off');
  });

  it('powers on a machine whose BMC still reports off after the settle time, and says so', async () => {
    const bmc = slow(null);
    const out = await STEPS['power-cycle'].run(ctx(bmc));
    assert.deepEqual(bmc.calls, ['cycle', 'on']);
    assert.equal(bmc.power, 'on');
    assert.equal(out.kind, 'done');
    assert.match(
      String((out as { message?: string }).message),
      /still off 0\.5 s after the cycle, so powered on/,
    );
  });

  it('power-off is done once the BMC reports the machine off, not when it accepted the request', async () => {
    const bmc = slow(60, 80);
    const out = await STEPS['power-off'].run(ctx(bmc));
    assert.equal(bmc.power, 'off');
    assert.deepEqual(out, { kind: 'done', message: 'powered off', machine: { powerState: 'off' } });
  });

  it('power-off fails retryably, naming the BMC, when the BMC never reports off', async () => {
    const bmc = slow(60, null);
    await assert.rejects(STEPS['power-off'].run(ctx(bmc)), (e: IngotError) => {
      assert.equal(e.code, 'INGOT_BMC_ERROR');
      assert.equal(e.retryable, true);
      assert.match(e.message, /slow-cycle:\/\/test does not report power off 0\.5 s after a force-off/);
      return true;
    });
  });

  it('powers on a machine that is off instead of cycling it', async () => {
    const bmc = slow(60);
    bmc.power = 'off';
    const out = await STEPS['power-cycle'].run(ctx(bmc));
    assert.deepEqual(bmc.calls, ['on']);
    assert.equal((out as { message?: string }).message, 'was off: powered on');
  });
});
