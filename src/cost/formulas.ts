/**
 * The cost formulas of issue 18, one function each, monthly (730 h). Pure: docs/cost.md
 * writes the same formulas out, and formulas.test.ts checks them against hand-computed values.
 */
import {
  type CloudInputs,
  HOURS_PER_MONTH,
  type InstanceType,
  type MachineClass,
  type SiteInputs,
} from './types.ts';

/** `price / amortisationMonths` */
export function amortisationPerMonth(c: MachineClass): number {
  return c.price / c.amortisationMonths;
}

/** `price × supportPercentPerYear / 100 / 12` */
export function supportPerMonth(c: MachineClass): number {
  return (c.price * c.supportPercentPerYear) / 100 / 12;
}

/** `averageWatts × 730 / 1000 × pricePerKWh × pue` */
export function powerPerMonth(averageWatts: number, s: SiteInputs): number {
  return ((averageWatts * HOURS_PER_MONTH) / 1000) * s.pricePerKWh * s.pue;
}

/** `rackUnits × pricePerRackUnitMonth` */
export function spacePerMonth(c: MachineClass, s: SiteInputs): number {
  return c.rackUnits * s.pricePerRackUnitMonth;
}

/** `staffFte × staffCostPerYear / 12` */
export function staffPerMonth(s: SiteInputs): number {
  return (s.staffFte * s.staffCostPerYear) / 12;
}

/** `egressTBPerMonth × bareMetalEgressPerTB` */
export function bareMetalEgressPerMonth(s: SiteInputs): number {
  return s.egressTBPerMonth * s.bareMetalEgressPerTB;
}

/** `egressTBPerMonth × 1000 × cloudEgressPerGB` */
export function cloudEgressPerMonth(s: SiteInputs, cloud: CloudInputs): number {
  return s.egressTBPerMonth * 1000 * cloud.egressPerGB;
}

/** `controlPlaneFeePerHour × 730` per managed cluster. */
export function controlPlaneFeePerMonth(cloud: CloudInputs, clusters: number): number {
  return cloud.controlPlaneFeePerHour * HOURS_PER_MONTH * clusters;
}

/** An hourly price × 730. */
export function monthly(perHour: number): number {
  return perHour * HOURS_PER_MONTH;
}

/** Cloud price terms: on-demand, then each reserved term of the table. */
export const ON_DEMAND = 'on-demand';

/** The hourly price of `i` at `term`, or undefined when the table does not offer it. */
export function hourlyAt(i: InstanceType, term: string): number | undefined {
  return term === ON_DEMAND ? i.onDemandPerHour : i.reservedPerHour[term];
}

/** Whether `i` has at least the machine's threads, memory and GPUs. */
export function fits(i: InstanceType, need: { threads: number; memoryGiB: number; gpus: number }): boolean {
  return i.vcpus >= need.threads && i.memoryGiB >= need.memoryGiB && i.gpus >= need.gpus;
}

/**
 * The cheapest instance type with at least the machine's threads, memory (GiB) and GPUs that
 * the table prices at `term`; ties go to the first in the table. Undefined when none does.
 */
export function cheapestFit(
  instances: readonly InstanceType[],
  need: { threads: number; memoryGiB: number; gpus: number },
  term: string,
): { instance: InstanceType; perHour: number } | undefined {
  let best: { instance: InstanceType; perHour: number } | undefined;
  for (const i of instances) {
    const perHour = hourlyAt(i, term);
    if (perHour === undefined || !fits(i, need)) continue;
    if (!best || perHour < best.perHour) best = { instance: i, perHour };
  }
  return best;
}

/**
 * The first whole month at whose end bare metal (bought up front, then `runningPerMonth`) has
 * cost no more than the cloud option (`cloudPerMonth` from month one):
 * `ceil(upfront / (cloudPerMonth − runningPerMonth))`. Null when the cloud option costs no more
 * per month than running the machines: bare metal never catches up.
 */
export function breakevenMonth(
  upfront: number,
  runningPerMonth: number,
  cloudPerMonth: number,
): number | null {
  const saved = cloudPerMonth - runningPerMonth;
  if (saved <= 0) return null;
  // A hair under a whole month is that month: 12000 / 400.0000000001 is month 30, not 31.
  return Math.ceil(upfront / saved - 1e-9);
}
