/**
 * The health gauges of a region's /metrics, read from the store: one series per machine and per
 * disk with the machine's place (zone, rack, pool) and cluster node as labels.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipUnless } from '../../test/support/needs.ts';
import { startTestRegion } from '../../test/support/region.ts';
import type { HealthSample } from '../core/health.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { diskHealthInput, machineInput } from '../store/testing.ts';
import { healthMetrics } from './metrics.ts';
import { summarise, unreachable } from './summary.ts';

/** `name{labels} value` lines of a scrape, by series (labels as written). */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('health metrics', () => {
  let dir: string;
  let store: SqlStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-health-metrics-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports each machine’s newest poll and each disk’s newest report, labelled with rack and cluster node', async () => {
    const a = await store.createMachine(
      machineInput({
        hostname: 'web-1',
        zone: 'z2',
        rack: 'r9',
        pool: 'gpu',
        state: 'ready',
        stateReason: 't',
      }),
      't',
    );
    const b = await store.createMachine(machineInput({ hostname: 'db-1' }), 't');
    await store.createCluster(
      {
        name: 'prod',
        clusterFile: 'apiVersion: ingot.dev/v1alpha1\nkind: Cluster\n',
        distribution: 'kubeadm',
        version: '1.30.2',
        endpoint: '10.0.0.5:6443',
        members: [{ machineId: a.id, hostname: 'web-1', role: 'init', order: 0, address: '10.0.0.10/24' }],
        job: { kind: 'cluster-create', steps: ['deploy-nodes'] },
        reason: 'test',
      },
      't',
    );
    const report = {
      health: 'critical' as const,
      readings: [
        { name: 'CPU temperature', kind: 'temperature' as const, value: 71, unit: 'Cel' },
        { name: 'Fan 1', kind: 'fan' as const, value: 0, unit: 'RPM', health: 'critical' as const },
        { name: 'Fan 2', kind: 'fan' as const, value: 5000, unit: 'RPM', health: 'ok' as const },
        { name: 'System input power', kind: 'power' as const, value: 310, unit: 'W' },
      ],
    };
    const old: HealthSample = { ...summarise(a.id, 1000, report, []), tempMaxCelsius: 20 };
    await store.recordHealthSample(old);
    await store.recordHealthSample(
      summarise(a.id, 2000, report, [{ id: '1', at: null, severity: 'critical', message: 'x' }]),
    );
    await store.recordHealthSample(unreachable(b.id, 2000, 'INGOT_BMC_UNREACHABLE: timed out'));
    await store.recordDiskHealth([
      diskHealthInput(a.id, 'S1', 3000, {
        passed: false,
        reallocatedSectors: 12,
        pendingSectors: 3,
        temperatureCelsius: 41,
        powerOnHours: 10,
      }),
    ]);
    const got = series(await healthMetrics(store, { reuseMs: 0 }).exposition());
    const la = `machine="${a.id}",hostname="web-1",zone="z2",rack="r9",pool="gpu",cluster="prod",node="web-1"`;
    const lb = `machine="${b.id}",hostname="db-1",zone="z1",rack="r1",pool="default",cluster="",node=""`;
    const want: [string, number][] = [
      [`ingot_machine_bmc_up{${la}}`, 1],
      [`ingot_machine_health_status{${la}}`, 2],
      [`ingot_machine_temperature_max_celsius{${la}}`, 71],
      [`ingot_machine_fans{${la}}`, 2],
      [`ingot_machine_fans_failed{${la}}`, 1],
      [`ingot_machine_power_watts{${la}}`, 310],
      [`ingot_machine_sel_critical_entries{${la}}`, 1],
      [`ingot_machine_health_poll_timestamp_seconds{${la}}`, 2],
      [`ingot_machine_bmc_up{${lb}}`, 0],
      [`ingot_disk_smart_passed{${la},serial="S1",device="/dev/sda"}`, 0],
      [`ingot_disk_reallocated_sectors{${la},serial="S1",device="/dev/sda"}`, 12],
      [`ingot_disk_pending_sectors{${la},serial="S1",device="/dev/sda"}`, 3],
      [`ingot_disk_temperature_celsius{${la},serial="S1",device="/dev/sda"}`, 41],
    ];
    for (const [k, v] of want) assert.equal(got.get(k), v, k);
    // Unknown figures are absent, not zero: an unreachable BMC has no temperature, a PSU-less report no PSU gauge.
    assert.equal(got.has(`ingot_machine_temperature_max_celsius{${lb}}`), false);
    assert.equal(got.has(`ingot_machine_health_status{${lb}}`), false);
    assert.equal(got.has(`ingot_machine_psus{${la}}`), false);
    assert.equal(got.has(`ingot_disk_media_errors{${la},serial="S1",device="/dev/sda"}`), false);
    // Bounded: one series per machine (or disk) per gauge, however many sensors a BMC lists.
    const health = [...got.keys()].filter(
      (k) => k.startsWith('ingot_machine_') || k.startsWith('ingot_disk_'),
    );
    // web-1: 8 gauges (no PSUs); db-1: up and poll time; the disk: 5 (no NVMe counters).
    assert.equal(health.length, 8 + 2 + 5);
  });
});

describe('a region’s /metrics with health gauges', { skip: skipUnless({ programs: ['promtool'] }) }, () => {
  it('passes promtool check metrics: the exposition parses and its names follow the conventions', async () => {
    const r = await startTestRegion({ healthPollMs: 0, powerSampleMs: 0 });
    try {
      const m = await r.region.store.createMachine(machineInput({ hostname: 'q"uote\\d' }), 't');
      await r.region.store.recordHealthSample(
        summarise(
          m.id,
          Date.now(),
          { health: 'ok', readings: [{ name: 'T', kind: 'temperature', value: 40, unit: 'Cel' }] },
          [],
        ),
      );
      const res = await r.fetch(`${r.region.url}/metrics`, {
        headers: { authorization: `Bearer ${r.adminToken}` },
      });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.ok(
        text.includes(`ingot_machine_temperature_max_celsius{machine="${m.id}",hostname="q\\"uote\\\\d"`),
        text,
      );
      assert.ok(text.includes('ingot_machines{state="new"} 1'), 'the registry’s own metrics are still there');
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      const health = `${lint.stdout}${lint.stderr}`
        .split('\n')
        .filter((l) => /ingot_(machine|disk)_/.test(l));
      assert.deepEqual(health, [], 'promtool finds nothing to say about the health gauges');
      assert.doesNotMatch(`${lint.stdout}${lint.stderr}`, /error|unexpected|invalid/i);
    } finally {
      await r.stop();
    }
  });
});
