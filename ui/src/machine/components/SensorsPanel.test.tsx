import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { ApiError } from '../../api/client.ts';
import type { SensorAnswer, SensorReading } from '../sensors.ts';
import { SensorsPanel } from './SensorsPanel.tsx';

const READINGS: SensorReading[] = [
  { name: 'CPU temperature', kind: 'temperature', value: 52, unit: 'Cel', health: 'ok' },
  { name: 'Inlet temperature', kind: 'temperature', value: 22, unit: 'Cel', health: 'warning' },
  { name: 'Fan 1', kind: 'fan', value: 5400, unit: 'RPM', health: 'critical' },
  { name: 'System input power', kind: 'power', value: 185, unit: 'W' },
  { name: '12V rail', kind: 'voltage', value: 12.05, unit: 'V', health: 'ok' },
];

/** A BMC behind the region: answers `script` in turn (the last one repeats); counts the calls. */
function bmc(script: ((n: number) => SensorAnswer | Error)[]) {
  const calls = { n: 0 };
  const load = async () => {
    const step = script[Math.min(calls.n, script.length - 1)];
    const a = step(calls.n);
    calls.n++;
    if (a instanceof Error) throw a;
    return a;
  };
  return { load, calls };
}

const read =
  (s: number, change: (r: SensorReading) => SensorReading = (r) => r) =>
  () => ({
    health: 'ok' as const,
    readAt: new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString(),
    readings: READINGS.map(change),
  });

const rowOf = (name: string) => screen.getByRole('row', { name: new RegExp(`^${name}`) });

describe('SensorsPanel', () => {
  afterEach(cleanup);

  it('shows readings grouped by kind with units, and health in words', async () => {
    const { load } = bmc([read(0)]);
    render(<SensorsPanel load={load} intervalMs={60_000} />);
    await screen.findByText(/System health: OK/);
    const table = screen.getByRole('table', { name: 'Sensor readings from the BMC' });
    const heads = [...table.querySelectorAll('thead th')].map((h) => h.textContent);
    assert.deepEqual(heads, ['Sensor', 'Reading', 'Health', 'Since opened']);
    const groups = [...table.querySelectorAll('tr.sensor-group')].map((r) => r.textContent);
    assert.deepEqual(groups, ['Temperatures', 'Fans', 'Power', 'Voltages']);
    assert.match(rowOf('CPU temperature').textContent ?? '', /52 °C✓ OK/);
    assert.match(rowOf('Inlet temperature').textContent ?? '', /22 °C! Warning/);
    assert.match(rowOf('Fan 1').textContent ?? '', /5,400 RPM✗ Critical/);
    assert.match(rowOf('System input power').textContent ?? '', /185 W—not reported/);
    assert.match(rowOf('12V rail').textContent ?? '', /12\.05 V/);
    assert.ok(within(rowOf('Fan 1')).getByText('Critical', { exact: false }).closest('.tone-error'));
    screen.getByText('10:00:00');
  });

  it('charts each sensor since the page opened, with the latest value for screen readers', async () => {
    const { load, calls } = bmc([
      read(0, (r) => (r.name === 'CPU temperature' ? { ...r, value: 24 } : r)),
      read(0, (r) => (r.name === 'CPU temperature' ? { ...r, value: 24 } : r)), // cached: same read
      read(10),
    ]);
    render(<SensorsPanel load={load} intervalMs={5} />);
    await waitFor(() => assert.ok(calls.n >= 3));
    const chart = within(rowOf('CPU temperature')).getByRole('img');
    await waitFor(() =>
      assert.equal(
        chart.getAttribute('aria-label'),
        'CPU temperature: 2 readings since the page opened, from 24 °C to 52 °C, latest 52 °C',
      ),
    );
    assert.match(chart.querySelector('path')?.getAttribute('d') ?? '', /^M[\d.]+,[\d.]+ L[\d.]+,[\d.]+$/);
    assert.match(rowOf('CPU temperature').textContent ?? '', /52 °C/);
  });

  it('keeps the last readings when a read fails, and says so', async () => {
    const { load, calls } = bmc([
      read(0),
      () =>
        new ApiError(502, {
          code: 'INGOT_BMC_UNREACHABLE',
          message: 'read sensors on BMC redfish://10.0.0.5: the BMC is unreachable',
        }),
    ]);
    render(<SensorsPanel load={load} intervalMs={5} />);
    await screen.findByText(/The last read failed: read sensors on BMC redfish:\/\/10\.0\.0\.5/);
    assert.ok(calls.n >= 2);
    assert.match(rowOf('CPU temperature').textContent ?? '', /52 °C/);
    assert.equal(
      screen.getByRole('status').textContent,
      screen.getByText(/The last read failed/).textContent,
    );
  });

  it('says when the BMC cannot report sensors and stops asking', async () => {
    const { load, calls } = bmc([
      () =>
        new ApiError(422, {
          code: 'INGOT_BMC_UNSUPPORTED',
          message: 'sensors is not supported by fake://bmc-1',
        }),
    ]);
    render(<SensorsPanel load={load} intervalMs={5} />);
    await screen.findByText('No sensor readings: this BMC does not report them.');
    screen.getByText('sensors is not supported by fake://bmc-1');
    const after = calls.n;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls.n, after);
    assert.equal(after, 1);
  });

  it('says when the BMC could not be read before any reading arrived', async () => {
    const { load } = bmc([() => new Error('the region did not answer')]);
    render(<SensorsPanel load={load} intervalMs={60_000} />);
    await screen.findByText('Could not read the BMC: the region did not answer');
    screen.getByText(/No sensor readings yet; asking the BMC again every 60 s/);
    assert.equal(screen.queryByRole('table'), null);
  });
});
