/** Hardware health history on every backend (run by store-contract.ts). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  diskHealthInput as disk,
  type Harness,
  healthSampleInput as sample,
  machineInput,
} from './testing.ts';

const T0 = 1_700_000_000_000;

export function healthContract(h: () => Harness): void {
  it('keeps a machine’s BMC polls in order, unreachable ones with their reason, and gives the newest with its labels', async () => {
    const { store } = h();
    const a = await store.createMachine(machineInput({ zone: 'z7', rack: 'r7', pool: 'hp' }), 'user:test');
    assert.equal(await store.recordHealthSample(sample(a.id, T0)), true);
    assert.equal(
      await store.recordHealthSample(sample(a.id, T0)),
      false,
      'the same instant twice: kept once',
    );
    const down = sample(a.id, T0 + 60_000, {
      reachable: false,
      health: 'unknown',
      error: 'INGOT_BMC_UNREACHABLE: timed out after 5000 ms',
      tempMaxCelsius: null,
      watts: null,
      readings: [],
    });
    assert.equal(await store.recordHealthSample(down), true);
    assert.equal(await store.recordHealthSample(sample('no-such-machine', T0)), false);
    const hist = await store.healthHistory(a.id, 0, 10);
    assert.deepEqual(hist, [sample(a.id, T0), down]);
    assert.deepEqual(await store.healthHistory(a.id, 0, 1), [down], 'the limit keeps the newest');
    const latest = (await store.latestHealth()).find((l) => l.labels.machineId === a.id);
    assert.deepEqual(latest?.labels, {
      machineId: a.id,
      hostname: a.hostname,
      zone: 'z7',
      rack: 'r7',
      pool: 'hp',
      cluster: '',
      node: '',
    });
    assert.equal(latest?.sample.reachable, false);
    assert.match(latest?.sample.error ?? '', /timed out/);
    // A deleted machine takes its history with it (and leaves the next test's prune count alone).
    await store.deleteMachine(a.id, 'user:test');
    assert.deepEqual(await store.healthHistory(a.id, 0, 10), []);
  });

  it('keeps SMART reports per disk serial, and pruning keeps each disk’s newest report', async () => {
    const { store } = h();
    const m = await store.createMachine(machineInput(), 'user:test');
    const reports = [
      disk(m.id, 'S1', T0, { reallocatedSectors: 1 }),
      disk(m.id, 'S1', T0 + 3_600_000, { reallocatedSectors: 8 }),
      disk(m.id, 'N1', T0, {
        device: '/dev/nvme0',
        protocol: 'nvme',
        reallocatedSectors: null,
        pendingSectors: null,
        mediaErrors: 3,
        percentageUsed: 97,
        passed: false,
      }),
    ];
    assert.equal(await store.recordDiskHealth(reports), 3);
    assert.equal(await store.recordDiskHealth([disk('no-such-machine', 'X', T0)]), 0);
    assert.deepEqual(await store.diskHealthHistory(m.id, 0), [reports[2], reports[0], reports[1]]);
    const latest = (await store.latestDiskHealth()).filter((l) => l.labels.machineId === m.id);
    assert.deepEqual(latest.map((l) => [l.disk.serial, l.disk.reallocatedSectors, l.disk.passed]).sort(), [
      ['N1', null, false],
      ['S1', 8, true],
    ]);
    await store.recordHealthSample(sample(m.id, T0));
    await store.recordHealthSample(sample(m.id, T0 + 7_200_000));
    // Everything before T0 + 2 h goes, but N1's only report and S1's newest stay.
    assert.equal(await store.pruneHealth(T0 + 7_200_000), 2);
    assert.deepEqual(
      (await store.diskHealthHistory(m.id, 0)).map((d) => [d.serial, d.at]),
      [
        ['N1', T0],
        ['S1', T0 + 3_600_000],
      ],
    );
    assert.deepEqual(
      (await store.healthHistory(m.id, 0, 10)).map((s) => s.at),
      [T0 + 7_200_000],
    );
    await store.deleteMachine(m.id, 'user:test');
    assert.equal(
      (await store.latestDiskHealth()).some((l) => l.labels.machineId === m.id),
      false,
    );
  });
}
