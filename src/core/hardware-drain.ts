/**
 * Hardware-driven drain (issue 16): what to do about a cluster node whose hardware says it is
 * about to fail, before it does. The triggers are the signals the health alerts fire on — a
 * disk predicting its own failure, reallocated, pending or NVMe media-error counts rising
 * between two reports of the same disk (by serial), a BMC sensor or the BMC's rollup critical —
 * and the cluster's policy says how far Ingot goes: `alert` (the timeline only), `cordon` (no
 * new pods), `drain` (cordon and evict through the Eviction API, PodDisruptionBudgets honoured).
 * Pure: the caller reads the reports, the sample and the Node, and applies the answer.
 */
import type { DiskHealth, HealthSample } from './health.ts';

/** The timeline event of every hardware-driven decision; `data.reason` is the episode. */
export const HARDWARE_RISK_EVENT = 'cluster.node.hardware-risk';
/** The actor of the drains the hardware watch starts. */
export const HARDWARE_WATCH_ACTOR = 'hardware-watch';

export const HardwarePolicy = { Alert: 'alert', Cordon: 'cordon', Drain: 'drain' } as const;
export type HardwarePolicy = (typeof HardwarePolicy)[keyof typeof HardwarePolicy];

export const HardwareAction = { None: 'none', ...HardwarePolicy } as const;
export type HardwareAction = (typeof HardwareAction)[keyof typeof HardwareAction];

/** One disk: its newest report and the one before it (null when there is only one). */
export interface DiskPair {
  readonly newest: DiskHealth;
  readonly previous: DiskHealth | null;
}

export interface HardwareInput {
  readonly policy: HardwarePolicy;
  readonly disks: readonly DiskPair[];
  /** The machine's newest BMC poll; null when it has none. */
  readonly sample: HealthSample | null;
  /** The Node is already unschedulable (cordoned by Ingot or by someone else). */
  readonly cordoned: boolean;
  /** The episode Ingot last acted on (`HardwareDecision.episode`), or null. */
  readonly lastEpisode: string | null;
}

export interface HardwareDecision {
  readonly action: HardwareAction;
  /** The triggers in words, joined with `; `; empty when the hardware gives no reason. */
  readonly reason: string;
  /**
   * What makes this episode: the reason without the sensors' readings, so a critical
   * temperature moving 97 → 98 °C is the same episode, while a disk count rising further is a
   * new one.
   */
  readonly episode: string;
  /** Why nothing is done although there is a reason (already acted on this episode, already cordoned). */
  readonly skipped: string | null;
}

/**
 * Each serial's newest report and the one before it. A disk replaced — another serial reported
 * at its device since its newest report — is left out: its old reports are history, and the
 * episode they made is over once the part is swapped.
 */
export function diskPairs(history: readonly DiskHealth[]): DiskPair[] {
  const bySerial = new Map<string, DiskHealth[]>();
  for (const d of history) bySerial.set(d.serial, [...(bySerial.get(d.serial) ?? []), d]);
  const pairs = [...bySerial.values()].map((l) => {
    const sorted = [...l].sort((a, b) => b.at - a.at);
    return { newest: sorted[0], previous: sorted[1] ?? null };
  });
  const latest = new Map<string, number>();
  for (const { newest: d } of pairs) latest.set(d.device, Math.max(latest.get(d.device) ?? d.at, d.at));
  return pairs.filter(({ newest: d }) => d.at >= (latest.get(d.device) ?? d.at));
}

const name = (device: string) => device.replace(/^\/dev\//, '');

const rose = (label: string, before: number | null | undefined, now: number | null) =>
  before != null && now != null && now > before ? `${label} ${before} → ${now}` : null;

/** Why this disk puts its node at risk now, or null. */
export function diskTrigger({ newest: d, previous: p }: DiskPair): string | null {
  const why =
    d.passed === false
      ? ['SMART predicts its failure']
      : [
          rose('reallocated sectors', p?.reallocatedSectors, d.reallocatedSectors),
          rose('pending sectors', p?.pendingSectors, d.pendingSectors),
          rose('media errors', p?.mediaErrors, d.mediaErrors),
        ].filter((x): x is string => x !== null);
  return why.length ? `disk ${name(d.device)} (serial ${d.serial}): ${why.join(', ')}` : null;
}

const unitOf = (u: string) => (u === 'Cel' || u === 'C' || u === 'celsius' ? ' °C' : u ? ` ${u}` : '');

/**
 * Why the BMC puts the node at risk now: each critical sensor (with its reading), else a
 * critical rollup; or null. `key` is the same without the readings.
 */
export function sensorTrigger(s: HealthSample | null): { text: string; key: string } | null {
  if (!s?.reachable) return null;
  const critical = s.readings.filter((r) => r.health === 'critical');
  if (critical.length)
    return {
      text: critical
        .map((r) => `sensor ${r.name} critical${r.value === null ? '' : ` (${r.value}${unitOf(r.unit)})`}`)
        .join(', '),
      key: critical.map((r) => `sensor ${r.name} critical`).join(', '),
    };
  return s.health === 'critical'
    ? { text: 'BMC health rollup critical', key: 'BMC health rollup critical' }
    : null;
}

export function hardwareDecision(i: HardwareInput): HardwareDecision {
  const disks = i.disks.map(diskTrigger).filter((x): x is string => x !== null);
  const sensor = sensorTrigger(i.sample);
  const reason = [...disks, ...(sensor ? [sensor.text] : [])].join('; ');
  const episode = [...disks, ...(sensor ? [sensor.key] : [])].join('; ');
  if (!reason) return { action: HardwareAction.None, reason, episode, skipped: null };
  if (episode === i.lastEpisode)
    return { action: HardwareAction.None, reason, episode, skipped: 'already acted on for this reason' };
  if (i.policy !== HardwarePolicy.Alert && i.cordoned)
    return {
      action: HardwareAction.Alert,
      reason,
      episode,
      skipped: 'the node is already cordoned: not cordoned or drained again',
    };
  return { action: i.policy, reason, episode, skipped: null };
}
