import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiskHealth, diskRisk } from './health.ts';

const d = (over: Partial<DiskHealth>): DiskHealth => ({
  machineId: 'm',
  serial: 's',
  at: 0,
  device: '/dev/sda',
  model: null,
  protocol: 'ata',
  passed: true,
  reallocatedSectors: 0,
  pendingSectors: 0,
  mediaErrors: null,
  percentageUsed: null,
  temperatureCelsius: null,
  powerOnHours: null,
  source: 'agent',
  ...over,
});

describe('diskRisk', () => {
  it('names the most telling reason a disk is at risk, and nothing for a healthy one', () => {
    assert.equal(diskRisk(d({})), null);
    assert.equal(diskRisk(d({ passed: null, reallocatedSectors: null, pendingSectors: null })), null);
    assert.equal(diskRisk(d({ passed: false, pendingSectors: 3 })), 'SMART predicts its failure');
    assert.equal(diskRisk(d({ pendingSectors: 3, reallocatedSectors: 9 })), '3 sectors pending reallocation');
    assert.equal(diskRisk(d({ protocol: 'nvme', mediaErrors: 2 })), '2 media errors');
    assert.equal(diskRisk(d({ protocol: 'nvme', percentageUsed: 89 })), null);
    assert.equal(diskRisk(d({ protocol: 'nvme', percentageUsed: 90 })), '90% of its rated endurance used');
    assert.equal(diskRisk(d({ reallocatedSectors: 1 })), '1 reallocated sectors');
  });
});
