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

  it('plots each disk’s counters and temperature over its reports, the deployed node’s included', async () => {
    const answer: HealthAnswer = {
      samples: [sample(0)],
      disks: [
        disk('S1', 0, { reallocatedSectors: 1, pendingSectors: 0, temperatureCelsius: 31 }),
        disk('S1', 1, {
          reallocatedSectors: 4,
          pendingSectors: 2,
          temperatureCelsius: 35,
          source: 'node-agent',
        }),
        disk('S1', 2, {
          reallocatedSectors: 8,
          pendingSectors: 0,
          temperatureCelsius: 33,
          source: 'node-agent',
        }),
        disk('N1', 0, {
          device: '/dev/nvme0',
          protocol: 'nvme',
          mediaErrors: 0,
          reallocatedSectors: null,
          pendingSectors: null,
        }),
        disk('N1', 2, {
          device: '/dev/nvme0',
          protocol: 'nvme',
          mediaErrors: 5,
          reallocatedSectors: null,
          pendingSectors: null,
          temperatureCelsius: null,
        }),
        disk('X1', 0),
      ],
    };
    render(<HealthHistoryPanel load={async () => answer} />);
    await screen.findByText(/1 polls in the last 24 h/);
    screen.getByRole('img', { name: 'S1 reallocated and pending sectors: 3 reports, from 1 to 8, latest 8' });
    screen.getByRole('img', { name: 'S1 drive temperature: 3 reports, from 31 °C to 35 °C, latest 33 °C' });
    screen.getByRole('img', { name: 'N1 media errors: 2 reports, from 0 to 5, latest 5' });
    // No temperature at its newest report: the plot has its one reading, and no "latest".
    screen.getByRole('img', { name: 'N1 drive temperature: 1 reports, from 30 °C to 30 °C' });
    const table = screen.getByRole('table', { name: 'Disk health (SMART)' });
    const row = (serial: string) =>
      within(table)
        .getAllByRole('row')
        .find((r) => r.querySelector('th')?.textContent?.startsWith(serial));
    assert.match(row('S1')?.textContent ?? '', /by the node/);
    assert.match(row('X1')?.textContent ?? '', /one report/);
    assert.equal(row('X1')?.querySelectorAll('svg').length, 0);
  });
});
