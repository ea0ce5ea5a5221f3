/**
 * The cost model's resolved inputs and its answers. Money is in the model's currency, time in
 * months of 730 hours, power in watts, memory in GiB (2^30 bytes). docs/cost.md explains each.
 */

/** Hours in a month: 8,760 h a year / 12, the figure cloud price pages use. */
export const HOURS_PER_MONTH = 730;

export interface SiteInputs {
  readonly currency: string;
  readonly pricePerKWh: number;
  /** Power usage effectiveness: facility power / IT power (cooling and losses), ≥ 1. */
  readonly pue: number;
  readonly pricePerRackUnitMonth: number;
  readonly networkPerMonth: number;
  readonly staffFte: number;
  readonly staffCostPerYear: number;
  readonly egressTBPerMonth: number;
  readonly bareMetalEgressPerTB: number;
}

/** Which machines a class prices: every given criterion must match; an empty match takes all. */
export interface ClassMatch {
  readonly pool?: string;
  readonly tags?: readonly string[];
  readonly hostnames?: readonly string[];
}

export interface MachineClass {
  readonly name: string;
  readonly match: ClassMatch;
  /** Purchase price of one machine. */
  readonly price: number;
  readonly amortisationMonths: number;
  readonly supportPercentPerYear: number;
  /** Used when the machine has no recorded BMC power readings in the window (flagged). */
  readonly nominalWatts: number;
  readonly rackUnits: number;
}

export interface InstanceType {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly onDemandPerHour: number;
  /** Hourly price per reserved term (term name → price); a term missing here is not offered. */
  readonly reservedPerHour: Readonly<Record<string, number>>;
}

export interface CloudInputs {
  readonly name: string;
  readonly egressPerGB: number;
  readonly controlPlaneFeePerHour: number;
  /** Reserved terms, in the order reports show them (`1y`, `3y`). */
  readonly terms: readonly string[];
  readonly instances: readonly InstanceType[];
}

export interface CostInputs {
  readonly site: SiteInputs;
  readonly classes: readonly MachineClass[];
  readonly cloud: CloudInputs;
}

/** What the cost model needs to know about one machine. */
export interface MachineFacts {
  readonly id: string;
  readonly hostname: string;
  readonly pool: string;
  readonly tags: readonly string[];
  /** Hardware threads (cores when the inventory has no thread count); null when not inventoried. */
  readonly threads: number | null;
  readonly memoryGiB: number | null;
  readonly gpus: number;
  /** Mean of the recorded BMC power readings in the window; null when there are none. */
  readonly measuredWatts: number | null;
  readonly readings: number;
}

export const WattsSource = { Measured: 'measured', Nominal: 'nominal' } as const;
export type WattsSource = (typeof WattsSource)[keyof typeof WattsSource];

/** The bare-metal monthly cost lines (a machine's, or a scope's sum with its share of the site). */
export interface BareMetalLines {
  readonly amortisation: number;
  readonly support: number;
  readonly power: number;
  readonly space: number;
  readonly network: number;
  readonly staff: number;
  readonly egress: number;
}
export const BARE_METAL_LINES: readonly (keyof BareMetalLines)[] = [
  'amortisation',
  'support',
  'power',
  'space',
  'network',
  'staff',
  'egress',
];
