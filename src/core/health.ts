/**
 * Hardware health as the region keeps it: one sample per machine per poll of its BMC (sensors
 * rolled up, the SEL counted, or why the BMC did not answer), and one record per disk per
 * SMART report, keyed by the disk's serial so a rising count stays on the same disk.
 */

/** One poll of a machine's BMC. Counts are null when the BMC reports no such sensor. */
export interface HealthSample {
  readonly machineId: string;
  /** When the poll finished (ms since the epoch). */
  readonly at: number;
  /** The BMC answered the sensor read. */
  readonly reachable: boolean;
  /** The BMC's rollup (`ok`, `warning`, `critical`, `unknown`); `unknown` when unreachable. */
  readonly health: string;
  /** Why the BMC did not answer (its error code and message), else null. */
  readonly error: string | null;
  readonly tempMaxCelsius: number | null;
  readonly fans: number | null;
  readonly fansFailed: number | null;
  readonly psus: number | null;
  readonly psusFailed: number | null;
  /** The system's input power. */
  readonly watts: number | null;
  /** SEL entries of severity critical / warning (null when the SEL could not be read). */
  readonly selCritical: number | null;
  readonly selWarning: number | null;
  /** The sensor readings as read (name, kind, value, unit, health), for the history plot. */
  readonly readings: readonly {
    readonly name: string;
    readonly kind: string;
    readonly value: number | null;
    readonly unit: string;
    readonly health?: string;
  }[];
}

export const DiskProtocol = { Ata: 'ata', Nvme: 'nvme', Scsi: 'scsi', Unknown: 'unknown' } as const;
export type DiskProtocol = (typeof DiskProtocol)[keyof typeof DiskProtocol];

/** Where a disk's SMART report came from. */
export const DiskHealthSource = { Agent: 'agent', NodeAgent: 'node-agent', Import: 'import' } as const;
export type DiskHealthSource = (typeof DiskHealthSource)[keyof typeof DiskHealthSource];

/** One SMART / NVMe health report of one disk. Counters are null when the disk does not report them. */
export interface DiskHealth {
  readonly machineId: string;
  readonly serial: string;
  readonly at: number;
  /** Kernel name as smartctl saw it (`/dev/sda`, `/dev/nvme0`). */
  readonly device: string;
  readonly model: string | null;
  readonly protocol: DiskProtocol;
  /** SMART overall self-assessment; false is the drive predicting its own failure. */
  readonly passed: boolean | null;
  /** ATA 5 Reallocated_Sector_Ct (raw), SCSI grown defects. */
  readonly reallocatedSectors: number | null;
  /** ATA 197 Current_Pending_Sector (raw). */
  readonly pendingSectors: number | null;
  /** NVMe media and data integrity errors. */
  readonly mediaErrors: number | null;
  /** NVMe Percentage Used (endurance consumed; may pass 100). */
  readonly percentageUsed: number | null;
  readonly temperatureCelsius: number | null;
  readonly powerOnHours: number | null;
  readonly source: DiskHealthSource;
}

/**
 * Why a disk is at risk, in words, or null: the drive predicts its failure, or a counter that
 * precedes failures is not zero (pending sectors, media errors, reallocated sectors), or an NVMe
 * drive has used 90 % of its rated endurance.
 */
export function diskRisk(d: DiskHealth): string | null {
  if (d.passed === false) return 'SMART predicts its failure';
  if ((d.pendingSectors ?? 0) > 0) return `${d.pendingSectors} sectors pending reallocation`;
  if ((d.mediaErrors ?? 0) > 0) return `${d.mediaErrors} media errors`;
  if ((d.percentageUsed ?? 0) >= 90) return `${d.percentageUsed}% of its rated endurance used`;
  if ((d.reallocatedSectors ?? 0) > 0) return `${d.reallocatedSectors} reallocated sectors`;
  return null;
}
