import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, render, screen, within } from '@testing-library/react';
import type { DiskReport, HealthAnswer, HealthSample } from '../health.ts';
import { HealthHistoryPanel } from './HealthHistoryPanel.tsx';

const at = (m: number) => new Date(Date.UTC(2026, 11, 2, 10, m)).toISOString();
const sample = (m: number, over: Partial<HealthSample> = {}): HealthSample => ({
  at: at(m),
  reachable: true,
  health: 'ok',
  error: null,
  tempMaxCelsius: 50 + m,
  fans: 2,
  fansFailed: 0,
  psus: 2,
  psusFailed: 0,
  watts: 200,
  selCritical: 0,
  selWarning: 0,
  readings: [],
  ...over,
});
const disk = (serial: string, m: number, over: Partial<DiskReport> = {}): DiskReport => ({
  serial,
  at: at(m),
  device: '/dev/sda',
  model: null,
  protocol: 'ata',
  passed: true,
  reallocatedSectors: 0,
  pendingSectors: 0,
  mediaErrors: null,
  percentageUsed: null,
  temperatureCelsius: 30,
  powerOnHours: 100,
  source: 'agent',
  ...over,
});

describe('HealthHistoryPanel', () => {
  afterEach(cleanup);

  it('plots temperature and power over the hours, says when the BMC did not answer, and marks disks at risk', async () => {
    const answer: HealthAnswer = {
      samples: [
        sample(0),
        sample(1, { watts: 260 }),
        sample(2, {
          reachable: false,
          health: 'unknown',
          error: 'INGOT_BMC_UNREACHABLE: timed out',
          tempMaxCelsius: null,
          watts: null,
        }),
        sample(3, { tempMaxCelsius: 61 }),
      ],
      disks: [
        disk('S1', 0, { reallocatedSectors: 1 }),
        disk('S1', 3, { reallocatedSectors: 9 }),
        disk('N1', 0, {
          device: '/dev/nvme0',
          protocol: 'nvme',
          passed: true,
          percentageUsed: 12,
          mediaErrors: 0,
        }),
      ],
    };
    render(<HealthHistoryPanel load={async () => answer} intervalMs={60_000} />);
    await screen.findByText(/4 polls in the last 24 h/);
    screen.getByText(/the BMC did not answer 1: INGOT_BMC_UNREACHABLE: timed out/);
    screen.getByRole('img', {
      name: 'Hottest temperature: 3 readings over the last 24 h, from 50 °C to 61 °C, latest 61 °C',
    });
    screen.getByRole('img', {
      name: 'Power draw: 3 readings over the last 24 h, from 200 W to 260 W, latest 200 W',
    });
    const table = screen.getByRole('table', { name: 'Disk health (SMART)' });
    const rows = within(table).getAllByRole('row').slice(1);
    assert.deepEqual(
      rows.map((r) => r.querySelector('th')?.textContent),
      ['N1 /dev/nvme0', 'S1 /dev/sda · at risk'],
    );
    assert.match(rows[1].textContent ?? '', /9 \(was 1\)/);
    assert.match(rows[0].textContent ?? '', /12%/);
  });

  it('says so when there is no history yet', async () => {
    render(<HealthHistoryPanel load={async () => ({ samples: [], disks: [] })} />);
    await screen.findByText(/No health polls in the last 24 h/);
    screen.getByText(/No SMART reports yet/);
    assert.equal(screen.queryAllByRole('img').length, 0);
  });
});
