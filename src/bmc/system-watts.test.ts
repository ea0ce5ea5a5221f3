import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SensorReading } from './driver.ts';
import { systemWatts } from './system-watts.ts';

const w = (name: string, value: number | null, unit = 'W'): SensorReading => ({
  name,
  kind: 'power',
  value,
  unit,
});

describe('systemWatts', () => {
  it('takes the system-wide reading and does not add the supplies to it', () => {
    assert.equal(
      systemWatts([w('PS1 Input Power', 120), w('PS2 Input Power', 110), w('Pwr Consumption', 230)]),
      230,
    );
    assert.equal(systemWatts([w('System input power', 185)]), 185);
  });
  it('sums the supplies when there is no system-wide reading', () => {
    assert.equal(systemWatts([w('PS1 Input Power', 120), w('PS2 Input Power', 110.5)]), 230.5);
  });
  it('is null with no usable power reading', () => {
    assert.equal(
      systemWatts([w('PS1', null), { name: 'CPU', kind: 'temperature', value: 50, unit: 'Cel' }]),
      null,
    );
    assert.equal(systemWatts([]), null);
  });
});
