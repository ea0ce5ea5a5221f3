import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diskPairs, type HardwareInput, hardwareDecision } from './hardware-drain.ts';
import type { DiskHealth, HealthSample } from './health.ts';

const disk = (over: Partial<DiskHealth>): DiskHealth => ({
  machineId: 'm',
  serial: 'Z1X2',
  at: 0,
  device: '/dev/sda',
  model: null,
  protocol: 'ata',
  passed: true,
  reallocatedSectors: 8,
  pendingSectors: 0,
  mediaErrors: null,
  percentageUsed: null,
  temperatureCelsius: null,
  powerOnHours: null,
  source: 'node-agent',
  ...over,
});

const sample = (over: Partial<HealthSample>): HealthSample => ({
  machineId: 'm',
  at: 0,
  reachable: true,
  health: 'ok',
  error: null,
  tempMaxCelsius: 40,
  fans: 2,
  fansFailed: 0,
  psus: 2,
  psusFailed: 0,
  watts: 200,
  selCritical: 0,
  selWarning: 0,
  readings: [{ name: 'CPU1 Temp', kind: 'temperature', value: 40, unit: 'Cel', health: 'ok' }],
  ...over,
});

const input = (over: Partial<HardwareInput>): HardwareInput => ({
  policy: 'drain',
  disks: [],
  sample: sample({}),
  cordoned: false,
  lastEpisode: null,
  ...over,
});

const rising = { newest: disk({ reallocatedSectors: 24 }), previous: disk({ reallocatedSectors: 8 }) };

describe('hardware-driven drain decision', () => {
  it('drains on rising reallocated sectors, naming the disk, its serial and the counts', () => {
    const d = hardwareDecision(input({ disks: [rising] }));
    assert.equal(d.action, 'drain');
    assert.equal(d.reason, 'disk sda (serial Z1X2): reallocated sectors 8 → 24');
  });

  it('acts on rising pending sectors and NVMe media errors too', () => {
    const pending = hardwareDecision(
      input({ disks: [{ newest: disk({ pendingSectors: 3 }), previous: disk({ pendingSectors: 0 }) }] }),
    );
    assert.equal(pending.reason, 'disk sda (serial Z1X2): pending sectors 0 → 3');
    const nvme = hardwareDecision(
      input({
        disks: [
          {
            newest: disk({ device: '/dev/nvme0', serial: 'S4E', mediaErrors: 2 }),
            previous: disk({ device: '/dev/nvme0', serial: 'S4E', mediaErrors: 0 }),
          },
        ],
      }),
    );
    assert.equal(nvme.reason, 'disk nvme0 (serial S4E): media errors 0 → 2');
  });

  it('acts on a disk predicting its own failure, even on its first report', () => {
    const d = hardwareDecision(input({ disks: [{ newest: disk({ passed: false }), previous: null }] }));
    assert.equal(d.action, 'drain');
    assert.equal(d.reason, 'disk sda (serial Z1X2): SMART predicts its failure');
  });

  it('leaves steady or falling counters, and a first report with counts, alone', () => {
    for (const disks of [
      [{ newest: disk({}), previous: disk({}) }],
      [{ newest: disk({ reallocatedSectors: 4 }), previous: disk({ reallocatedSectors: 8 }) }],
      [{ newest: disk({ reallocatedSectors: 500 }), previous: null }],
    ])
      assert.deepEqual(hardwareDecision(input({ disks })), {
        action: 'none',
        reason: '',
        episode: '',
        skipped: null,
      });
  });

  it('acts on a critical sensor with its value, and on a critical rollup without one', () => {
    const hot = sample({
      health: 'critical',
      readings: [
        { name: 'CPU1 Temp', kind: 'temperature', value: 97, unit: 'Cel', health: 'critical' },
        { name: 'Fan1', kind: 'fan', value: 3000, unit: 'RPM', health: 'ok' },
      ],
    });
    assert.equal(hardwareDecision(input({ sample: hot })).reason, 'sensor CPU1 Temp critical (97 °C)');
    const rollup = sample({ health: 'critical', readings: [] });
    assert.equal(hardwareDecision(input({ sample: rollup })).reason, 'BMC health rollup critical');
    const warning = sample({ health: 'warning' });
    assert.equal(hardwareDecision(input({ sample: warning })).action, 'none');
    const gone = sample({ reachable: false, health: 'unknown', readings: [] });
    assert.equal(hardwareDecision(input({ sample: gone })).action, 'none');
  });

  it('names every trigger at once', () => {
    const d = hardwareDecision(
      input({ disks: [rising], sample: sample({ health: 'critical', readings: [] }) }),
    );
    assert.equal(d.reason, 'disk sda (serial Z1X2): reallocated sectors 8 → 24; BMC health rollup critical');
  });

  it('does what the policy says: alert, cordon or drain', () => {
    for (const policy of ['alert', 'cordon', 'drain'] as const)
      assert.equal(hardwareDecision(input({ policy, disks: [rising] })).action, policy);
  });

  it('does not act twice on the same episode, whatever the policy', () => {
    for (const policy of ['alert', 'cordon', 'drain'] as const) {
      const d = hardwareDecision(
        input({ policy, disks: [rising], lastEpisode: 'disk sda (serial Z1X2): reallocated sectors 8 → 24' }),
      );
      assert.equal(d.action, 'none');
      assert.equal(d.skipped, 'already acted on for this reason');
    }
  });

  it('only alerts on a node already cordoned: no repeated cordon or drain', () => {
    for (const policy of ['cordon', 'drain'] as const) {
      const d = hardwareDecision(input({ policy, disks: [rising], cordoned: true }));
      assert.equal(d.action, 'alert');
      assert.match(d.skipped ?? '', /already cordoned/);
    }
    assert.equal(hardwareDecision(input({ policy: 'alert', disks: [rising], cordoned: true })).skipped, null);
  });

  it('keeps a critical sensor whose reading moves in the same episode', () => {
    const at = (value: number) =>
      sample({
        health: 'critical',
        readings: [{ name: 'CPU1 Temp', kind: 'temperature', value, unit: 'Cel', health: 'critical' }],
      });
    const first = hardwareDecision(input({ policy: 'alert', sample: at(97) }));
    assert.equal(first.action, 'alert');
    const later = hardwareDecision(input({ policy: 'alert', sample: at(98), lastEpisode: first.episode }));
    assert.equal(later.reason, 'sensor CPU1 Temp critical (98 °C)');
    assert.equal(later.action, 'none');
  });

  it("pairs each serial's two newest reports, and leaves out a disk replaced at its device since", () => {
    const old8 = disk({ at: 1, reallocatedSectors: 8 });
    const old24 = disk({ at: 2, reallocatedSectors: 24 });
    const other = disk({ at: 2, serial: 'B', device: '/dev/sdb' });
    assert.deepEqual(diskPairs([old24, other, old8]), [
      { newest: old24, previous: old8 },
      { newest: other, previous: null },
    ]);
    assert.equal(hardwareDecision(input({ disks: diskPairs([old8, old24]) })).action, 'drain');
    // The failing drive swapped: a new serial at /dev/sda; the rise is history, the episode over.
    const swapped = disk({ at: 3, serial: 'NEW1', reallocatedSectors: 0 });
    assert.deepEqual(diskPairs([old8, old24, other, swapped]), [
      { newest: other, previous: null },
      { newest: swapped, previous: null },
    ]);
    assert.equal(hardwareDecision(input({ disks: diskPairs([old8, old24, swapped]) })).reason, '');
  });

  it('acts again when a new episode starts (the count rises further)', () => {
    const again = { newest: disk({ reallocatedSectors: 40 }), previous: disk({ reallocatedSectors: 24 }) };
    const d = hardwareDecision(
      input({
        policy: 'cordon',
        disks: [again],
        lastEpisode: 'disk sda (serial Z1X2): reallocated sectors 8 → 24',
      }),
    );
    assert.equal(d.action, 'cordon');
  });
});
