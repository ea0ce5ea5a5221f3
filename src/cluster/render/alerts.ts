import { type HardwarePolicy, HardwarePolicy as Policy } from '../../core/hardware-drain.ts';
import { toYamlDirect } from './yaml-emit.ts';

/**
 * Ingot's hardware alert rules, from node-exporter and smartctl-exporter metrics. The same
 * groups go into a PrometheusRule and into a plain rules file that `promtool check rules` and the
 * unit tests below (`promtool test rules`) run against. What Ingot does about a failing disk is
 * not driven by these alerts but by the region's own SMART reports (the hardware-driven drain,
 * docs/day2.md); the disk alert says what that is, per the Cluster file's `spec.hardware.onRisk`.
 */
interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  readonly description: string;
}

const RULES: readonly Rule[] = [
  {
    alert: 'IngotDiskSmartFailing',
    expr: 'smartctl_device_smart_status == 0',
    for: '5m',
    severity: 'critical',
    summary: 'Disk fails its SMART self-assessment',
    description:
      'Disk {{ $labels.device }} on {{ $labels.instance }} reports SMART status FAILED: replace it; ONRISK',
  },
  {
    alert: 'IngotDiskReallocatedSectorsGrowing',
    expr: 'increase(smartctl_device_attribute{attribute_name="Reallocated_Sector_Ct",attribute_value_type="raw"}[1h]) > 0',
    for: '0m',
    severity: 'warning',
    summary: 'Disk is reallocating sectors',
    description:
      'Disk {{ $labels.device }} on {{ $labels.instance }} reallocated {{ $value }} sectors in the last hour.',
  },
  {
    alert: 'IngotNvmeMediaErrors',
    expr: 'increase(smartctl_device_media_errors[1h]) > 0',
    for: '0m',
    severity: 'critical',
    summary: 'NVMe media errors',
    description:
      'NVMe {{ $labels.device }} on {{ $labels.instance }} logged media errors: data integrity is at risk.',
  },
  {
    alert: 'IngotDiskTemperatureHigh',
    expr: 'smartctl_device_temperature{temperature_type="current"} > 65',
    for: '15m',
    severity: 'warning',
    summary: 'Disk running hot',
    description: 'Disk {{ $labels.device }} on {{ $labels.instance }} is at {{ $value }}°C: check airflow.',
  },
  {
    alert: 'IngotMemoryUncorrectableErrors',
    expr: 'increase(node_edac_uncorrectable_errors_total[10m]) > 0',
    for: '0m',
    severity: 'critical',
    summary: 'Uncorrectable memory errors',
    description:
      'Memory controller {{ $labels.controller }} on {{ $labels.instance }} logged uncorrectable ECC errors.',
  },
  {
    alert: 'IngotMemoryCorrectableErrorsHigh',
    expr: 'increase(node_edac_correctable_errors_total[1h]) > 100',
    for: '0m',
    severity: 'warning',
    summary: 'Many correctable memory errors',
    description:
      'Memory controller {{ $labels.controller }} on {{ $labels.instance }} corrected {{ $value }} errors in an hour: a DIMM is failing.',
  },
  {
    alert: 'IngotBondDegraded',
    expr: 'node_bonding_active < node_bonding_slaves',
    for: '5m',
    severity: 'warning',
    summary: 'Network bond lost a member',
    description:
      'Bond {{ $labels.master }} on {{ $labels.instance }} has {{ $value }} active links of its members.',
  },
  {
    alert: 'IngotHardwareTemperatureCritical',
    expr: 'node_hwmon_temp_crit_alarm_celsius == 1',
    for: '2m',
    severity: 'critical',
    summary: 'Hardware sensor at critical temperature',
    description:
      'Sensor {{ $labels.chip }}/{{ $labels.sensor }} on {{ $labels.instance }} raised its critical alarm.',
  },
  {
    alert: 'IngotClockSkew',
    expr: 'abs(node_timex_offset_seconds) > 0.05',
    for: '10m',
    severity: 'warning',
    summary: 'Clock is off',
    description: 'The clock of {{ $labels.instance }} is {{ $value }}s off: etcd and TLS suffer; check NTP.',
  },
];

/** What the region does about the node, as the Cluster file asks (src/engine/cluster/hardware-watch.ts). */
export function onRiskWords(policy: HardwarePolicy): string {
  if (policy === Policy.Drain) return 'Ingot cordons and drains the node (spec.hardware.onRisk: drain).';
  if (policy === Policy.Cordon)
    return 'Ingot cordons the node (spec.hardware.onRisk: cordon); drain it before the repair.';
  return 'Ingot only alerts (spec.hardware.onRisk: alert); drain the node before the repair.';
}

export function alertGroups(policy: HardwarePolicy): { name: string; rules: Record<string, unknown>[] }[] {
  return [
    {
      name: 'ingot-hardware',
      rules: RULES.map((r) => ({
        alert: r.alert,
        expr: r.expr,
        for: r.for,
        labels: { severity: r.severity, ingot_hardware: 'true' },
        annotations: {
          summary: r.summary,
          description: r.description.replace('ONRISK', onRiskWords(policy)),
        },
      })),
    },
  ];
}

export function rulesFile(policy: HardwarePolicy): string {
  return toYamlDirect({ groups: alertGroups(policy) });
}

/** promtool rule unit tests: each alert fires on the bad series and stays silent on the good one. */
export function ruleTestsFile(rulesName: string, policy: HardwarePolicy): string {
  return toYamlDirect({
    rule_files: [rulesName],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          { series: 'smartctl_device_smart_status{device="sda",instance="n1"}', values: '0x10' },
          { series: 'smartctl_device_smart_status{device="sdb",instance="n1"}', values: '1x10' },
          { series: 'node_bonding_active{master="bond0",instance="n1"}', values: '1x10' },
          { series: 'node_bonding_slaves{master="bond0",instance="n1"}', values: '2x10' },
          {
            series: 'node_edac_uncorrectable_errors_total{controller="0",instance="n2"}',
            values: '0 0 1 1 1 1',
          },
          { series: 'smartctl_device_media_errors{device="nvme0",instance="n3"}', values: '0 0 0 0' },
        ],
        alert_rule_test: [
          {
            eval_time: '6m',
            alertname: 'IngotDiskSmartFailing',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', ingot_hardware: 'true', device: 'sda', instance: 'n1' },
                exp_annotations: {
                  summary: 'Disk fails its SMART self-assessment',
                  description: `Disk sda on n1 reports SMART status FAILED: replace it; ${onRiskWords(policy)}`,
                },
              },
            ],
          },
          { eval_time: '3m', alertname: 'IngotDiskSmartFailing', exp_alerts: [] },
          {
            eval_time: '6m',
            alertname: 'IngotBondDegraded',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', ingot_hardware: 'true', master: 'bond0', instance: 'n1' },
                exp_annotations: {
                  summary: 'Network bond lost a member',
                  description: 'Bond bond0 on n1 has 1 active links of its members.',
                },
              },
            ],
          },
          {
            eval_time: '4m',
            alertname: 'IngotMemoryUncorrectableErrors',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', ingot_hardware: 'true', controller: '0', instance: 'n2' },
                exp_annotations: {
                  summary: 'Uncorrectable memory errors',
                  description: 'Memory controller 0 on n2 logged uncorrectable ECC errors.',
                },
              },
            ],
          },
          { eval_time: '3m', alertname: 'IngotNvmeMediaErrors', exp_alerts: [] },
        ],
      },
    ],
  });
}
