/**
 * The hardware alert rules (alerts.yaml) with Prometheus' own promtool: the rules check, their
 * unit tests (alerts.test.yaml), and the whole chain from real smartctl output — a disk's
 * report stored, scraped from the region's gauges, fed to promtool as series — to a firing alert.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipUnless } from '../../test/support/needs.ts';
import {
  ALERT_RULES as RULES,
  diskSeries,
  promtool,
  replay,
  testRules,
} from '../../test/support/promtool.ts';
import { parseSmartctl } from '../core/smartctl.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { machineInput } from '../store/testing.ts';
import { healthMetrics } from './metrics.ts';

const TESTS = new URL('./alerts.test.yaml', import.meta.url).pathname;
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/smartctl/${name}`, import.meta.url), 'utf8'));

describe('hardware alert rules', { skip: skipUnless({ programs: ['promtool'] }) }, () => {
  let dir: string;
  let store: SqlStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-health-alerts-'));
    store = await openStore({ dataDir: join(dir, 'data') });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pass promtool check rules and their unit tests', async () => {
    assert.match(await promtool(['check', 'rules', RULES], dir), /SUCCESS: 9 rules found/);
    copyFileSync(RULES, join(dir, 'alerts.yaml'));
    copyFileSync(TESTS, join(dir, 'alerts.test.yaml'));
    assert.match(await promtool(['test', 'rules', 'alerts.test.yaml'], dir), /SUCCESS/);
  });

  it('fire for real smartctl reports with failing counters once they are stored and scraped', async () => {
    const m = await store.createMachine(machineInput({ hostname: 'stor-7', rack: 'r4' }), 't');
    const metrics = healthMetrics(store, { reuseMs: 0 });
    const ctx = (at: number) => ({ machineId: m.id, at, source: 'agent' as const });
    // Scrape 1: the Seagate as smartctl reported it (1 reallocated sector); a healthy NVMe.
    const ata = fixture('ata-seagate-st3500418as.json');
    ata.serial_number = 'Z2A1B2C3';
    const nvme = fixture('nvme-samsung-970-evo-plus.json');
    nvme.serial_number = 'S4EUNX0N1';
    await store.recordDiskHealth([parseSmartctl(ata, ctx(1000)), parseSmartctl(nvme, ctx(1000))]);
    const first = diskSeries(await metrics.exposition());
    // Scrape 2: the Seagate reallocated 8 more; the NVMe predicts its failure and is worn out.
    ata.ata_smart_attributes.table.find((a: { id: number }) => a.id === 5).raw.value = 9;
    nvme.smart_status.passed = false;
    nvme.nvme_smart_health_information_log.percentage_used = 97;
    await store.recordDiskHealth([parseSmartctl(ata, ctx(2000)), parseSmartctl(nvme, ctx(2000))]);
    const second = diskSeries(await metrics.exposition());
    assert.ok(first.size >= 10, `disk series scraped: ${[...first.keys()].join(', ')}`);
    // promtool replays the two scrapes, 10 minutes each, one sample a minute.
    const input = replay(first, second);
    const labels = (serial: string, device: string, severity: string) => ({
      severity,
      ingot_hardware: 'true',
      machine: m.id,
      hostname: 'stor-7',
      zone: 'z1',
      rack: 'r4',
      pool: 'default',
      // cluster and node are empty outside a cluster, and Prometheus drops empty labels.
      serial,
      device,
    });
    const where = 'of stor-7 in rack r4';
    const tests = {
      rule_files: ['alerts.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: input,
          alert_rule_test: [
            { eval_time: '5m', alertname: 'IngotDiskReallocatedSectorsRising', exp_alerts: [] },
            { eval_time: '5m', alertname: 'IngotDiskFailurePredicted', exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: 'IngotDiskReallocatedSectorsRising',
              exp_alerts: [
                {
                  exp_labels: labels('Z2A1B2C3', '/dev/sdb', 'warning'),
                  exp_annotations: {
                    summary: 'Disk is reallocating sectors',
                    description: `Disk Z2A1B2C3 (/dev/sdb) ${where} has 9 reallocated sectors, more than at any time in the last day: plan its replacement.`,
                  },
                },
              ],
            },
            {
              eval_time: '15m',
              alertname: 'IngotDiskFailurePredicted',
              exp_alerts: [
                {
                  exp_labels: labels('S4EUNX0N1', '/dev/nvme0', 'critical'),
                  exp_annotations: {
                    summary: 'Disk predicts its own failure',
                    description: `Disk S4EUNX0N1 (/dev/nvme0) ${where} fails its SMART self-assessment: replace it.`,
                  },
                },
              ],
            },
            {
              eval_time: '15m',
              alertname: 'IngotNvmeWearOut',
              exp_alerts: [
                {
                  exp_labels: labels('S4EUNX0N1', '/dev/nvme0', 'warning'),
                  exp_annotations: {
                    summary: 'NVMe drive near the end of its rated endurance',
                    description: `NVMe S4EUNX0N1 (/dev/nvme0) ${where} has used 97% of its rated endurance.`,
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    assert.match(await testRules(dir, tests), /SUCCESS/);
  });
});
