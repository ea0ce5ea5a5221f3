/** Power readings on every backend (run by store-contract.ts). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Harness, machineInput } from './testing.ts';

export function powerReadingsContract(h: () => Harness): void {
  it('averages power readings per machine over a window, one reading a minute at most', async () => {
    const { store } = h();
    const a = await store.createMachine(machineInput(), 'user:test');
    const b = await store.createMachine(machineInput(), 'user:test');
    const t0 = 1_700_000_000_000;
    assert.equal(await store.recordPowerReading(a.id, t0, 100), true);
    assert.equal(
      await store.recordPowerReading(a.id, t0 + 30_000, 999),
      false,
      'within the minute: not kept',
    );
    assert.equal(await store.recordPowerReading(a.id, t0 + 60_000, 200), true);
    assert.equal(await store.recordPowerReading(a.id, t0 + 120_000, 330), true);
    assert.equal(await store.recordPowerReading(b.id, t0 + 120_000, 50.5), true);
    assert.equal(await store.recordPowerReading('no-such-machine', t0, 10), false);
    const all = await store.averagePower(t0);
    // a: (100 + 200 + 330) / 3 = 210
    assert.deepEqual(all.get(a.id), { watts: 210, readings: 3 });
    assert.deepEqual(all.get(b.id), { watts: 50.5, readings: 1 });
    // From t0 + 1 min: (200 + 330) / 2 = 265
    assert.deepEqual((await store.averagePower(t0 + 60_000)).get(a.id), { watts: 265, readings: 2 });
    assert.equal(await store.prunePowerReadings(t0 + 60_000), 1);
    await store.deleteMachine(b.id, 'user:test');
    assert.equal((await store.averagePower(0)).has(b.id), false, 'a deleted machine takes its readings');
  });
}
