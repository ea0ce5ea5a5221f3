/**
 * Reading a CostModel file and a cloud price table: bounded YAML, the schema with its defaults,
 * every problem with its field path; then the resolved CostInputs the estimate takes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { fieldPathOf } from '../core/field-path.ts';
import {
  type CostModelFile,
  CostModelT,
  DEFAULT_PRICE_TABLE,
  type PriceTableFile,
  PriceTableT,
} from './model-schema.ts';
import type { CostInputs } from './types.ts';

/** A model or a table is a page of numbers: 1 MiB is far beyond any real one. */
export const COST_FILE_MAX = 1024 * 1024;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateModel = ajv.compile(CostModelT);
const validateTable = ajv.compile(PriceTableT);

function fieldOf(e: ErrorObject): string {
  return fieldPathOf(e) || '(root)';
}

function problemText(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return 'is not a known field; see docs/cost.md';
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'const') return `must be ${JSON.stringify(p.allowedValue)}`;
  return e.message ?? 'is invalid';
}

function fail(source: string, problems: string[], field?: string): never {
  throw new IngotError(
    ErrorCode.Validation,
    `${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`,
    { details: { field: field ?? source, problems } },
  );
}

function read<T>(text: string, source: string, validate: ReturnType<typeof ajv.compile>): T {
  if (text.length > COST_FILE_MAX) fail(source, ['is larger than 1 MiB']);
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    fail(source, [`is not YAML (${(e as Error).message.split('\n')[0]})`]);
  }
  if (!validate(doc)) {
    const problems = [...new Set((validate.errors ?? []).map((e) => `${fieldOf(e)}: ${problemText(e)}`))];
    fail(source, problems, `${source}: ${fieldOf(validate.errors![0])}`);
  }
  return doc as T;
}

export function parseCostModel(text: string, source = 'CostModel'): CostModelFile {
  const m = read<CostModelFile>(text, source, validateModel);
  const names = new Set<string>();
  m.spec.classes.forEach((c, i) => {
    if (names.has(c.name)) fail(source, [`spec.classes[${i}].name: "${c.name}" appears twice`]);
    names.add(c.name);
  });
  return m;
}

export function parsePriceTable(text: string, source = 'CloudPriceTable'): PriceTableFile {
  const t = read<PriceTableFile>(text, source, validateTable);
  const problems: string[] = [];
  t.instances.forEach((i, n) => {
    for (const term of Object.keys(i.reservedPerHour))
      if (!t.terms.includes(term))
        problems.push(
          `instances[${n}].reservedPerHour.${term}: is not one of terms (${t.terms.join(', ') || 'none'})`,
        );
  });
  if (problems.length > 0) fail(source, problems);
  return t;
}

/** The model used when none is given: every default of the schema. */
export function defaultCostModel(): CostModelFile {
  return parseCostModel(
    `apiVersion: ingot.dev/v1alpha1\nkind: CostModel\nmetadata: {name: default}\n`,
    'default model',
  );
}

/** The price tables shipped with Ingot, by name. */
export const SHIPPED_TABLES: readonly string[] = [DEFAULT_PRICE_TABLE];

export function shippedPriceTable(name: string): PriceTableFile {
  if (!SHIPPED_TABLES.includes(name))
    throw new IngotError(
      ErrorCode.Validation,
      `spec.cloud.priceTable: "${name}" is not a shipped table (${SHIPPED_TABLES.join(', ')}); send your own table with the model`,
      { details: { field: 'spec.cloud.priceTable' } },
    );
  const path = join(import.meta.dirname, 'prices', `${name}.yaml`);
  return parsePriceTable(readFileSync(path, 'utf8'), `src/cost/prices/${name}.yaml`);
}

/** Whether the model's table is a shipped one (else it names a file the caller must read). */
export function namesShippedTable(m: CostModelFile): boolean {
  return SHIPPED_TABLES.includes(m.spec.cloud.priceTable);
}

/** The model and its table as the estimate's inputs; the table's currency must be the model's. */
export function resolveInputs(m: CostModelFile, t: PriceTableFile): CostInputs {
  if (t.currency !== m.spec.currency)
    throw new IngotError(
      ErrorCode.Validation,
      `spec.currency: the model is in ${m.spec.currency} but price table ${t.metadata.name} is in ${t.currency}; convert one of them`,
      { details: { field: 'spec.currency' } },
    );
  return {
    site: { currency: m.spec.currency, ...m.spec.site },
    classes: m.spec.classes,
    cloud: {
      name: `${t.metadata.name} (${t.metadata.date})`,
      egressPerGB: m.spec.cloud.egressPerGB ?? t.egressPerGB,
      controlPlaneFeePerHour: m.spec.cloud.controlPlaneFeePerHour ?? t.controlPlaneFeePerHour,
      terms: t.terms,
      instances: t.instances,
    },
  };
}
