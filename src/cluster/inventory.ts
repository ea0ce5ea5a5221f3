import { parseDocument } from 'yaml';
import { MACHINE_STATES } from '../core/lifecycle.ts';
import type { Machine } from '../core/machine.ts';
import { validateSubnetShape } from '../core/subnet.ts';
import type { Subnet } from '../core/subnet.ts';
import { type Problem, throwProblems } from './spec/problems.ts';

/**
 * A machine as the API returns it, plus `gpus`: the core Machine has no GPU count yet, so the
 * inventory may carry one (`gpus: 4`); otherwise a `gpus=N` tag is read (see gpuCount).
 */
export type InventoryMachine = Machine & { readonly gpus?: number };

/** The offline inventory file: `{ machines: [...], subnets: [...] }` in the API's JSON shape. */
export interface Inventory {
  readonly machines: readonly InventoryMachine[];
  readonly subnets: readonly Subnet[];
}

export function gpuCount(m: InventoryMachine): number {
  if (typeof m.gpus === 'number') return m.gpus;
  const tag = m.tags.find((t) => /^gpus=\d+$/.test(t));
  return tag ? Number(tag.slice(5)) : 0;
}

/** Largest disk in GiB (the planner's minDiskGiB is about the biggest disk a node can use). */
export function largestDiskGiB(m: Machine): number {
  // `Math.max(0, ...sizes)` without the list: the planner asks per machine and want.
  let max = 0;
  for (const d of m.disks) {
    const v = Number(d.sizeBytes);
    if (Number.isNaN(v)) return Number.NaN;
    if (v > max) max = v;
  }
  return max / 2 ** 30;
}

const REQUIRED: readonly (keyof Machine)[] = [
  'id',
  'hostname',
  'state',
  'zone',
  'rack',
  'pool',
  'tags',
  'nics',
  'disks',
];

/** Parses and checks an inventory file, reporting every problem with its path. */
export function parseInventory(text: string, source = 'inventory'): Inventory {
  const d = parseDocument(text);
  if (d.errors.length > 0) {
    throwProblems(
      source,
      d.errors.map((e) => ({
        path: `line ${e.linePos?.[0].line ?? '?'}`,
        message: e.message.split('\n')[0],
      })),
    );
  }
  const raw = (d.toJS() ?? {}) as { machines?: unknown; subnets?: unknown };
  const problems: Problem[] = [];
  if (!Array.isArray(raw.machines))
    problems.push({ path: 'machines', message: 'must be a list of machines' });
  const machines = (Array.isArray(raw.machines) ? raw.machines : []) as InventoryMachine[];
  const subnets = (Array.isArray(raw.subnets) ? raw.subnets : []) as Subnet[];
  const hostnames = new Set<string>();
  machines.forEach((m, i) => {
    for (const k of REQUIRED)
      if (m?.[k] === undefined) problems.push({ path: `machines[${i}].${k}`, message: 'is required' });
    if (m?.state !== undefined && !MACHINE_STATES.includes(m.state)) {
      problems.push({ path: `machines[${i}].state`, message: `"${m.state}" is not a machine state` });
    }
    if (typeof m?.hostname === 'string' && hostnames.has(m.hostname)) {
      problems.push({ path: `machines[${i}].hostname`, message: `"${m.hostname}" appears twice` });
    }
    hostnames.add(m?.hostname);
  });
  subnets.forEach((s, i) => {
    if (typeof s?.name !== 'string') problems.push({ path: `subnets[${i}].name`, message: 'is required' });
    try {
      validateSubnetShape({ cidr: s.cidr, gateway: s.gateway ?? null, ranges: s.ranges ?? [] });
    } catch (e) {
      problems.push({ path: `subnets[${i}]`, message: (e as Error).message });
    }
  });
  throwProblems(source, problems);
  return {
    machines,
    subnets: subnets.map((s) => ({
      ...s,
      ranges: s.ranges ?? [],
      dns: s.dns ?? [],
      gateway: s.gateway ?? null,
      vlan: s.vlan ?? null,
    })),
  };
}
