/**
 * Rendered Helm chart values checked against the charts' own `values.schema.json`, the way
 * Helm checks them on install: the chart's default values.yaml coalesced with the values given
 * (maps merge key by key, anything else replaces, a null removes the default), then the whole
 * validated against the chart's schema (JSON Schema draft-07, 2019-09 or 2020-12, as the schema
 * says). The schemas and defaults are pinned upstream files in test/fixtures/chart-schemas/
 * (README.md there: which, where from, licence); a chart without a pinned schema is reported,
 * not validated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

export const CHART_SCHEMAS = new URL('../fixtures/chart-schemas/', import.meta.url).pathname;

type Values = Record<string, unknown>;

// ajv-formats is CommonJS: its plugin is the default export's default (as src/api/validation.ts).
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing of a chart's defaults with the values given (`helm install -f`). */
export function coalesce(defaults: Values, given: Values): Values {
  const out: Values = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = coalesce(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

/** A pinned chart: `<chart>-<version>/values.schema.json` and, when pinned too, its `values.yaml`. */
export interface PinnedChart {
  readonly schema: Values;
  readonly defaults: Values | null;
}

/** The pinned schema (and defaults) of CHART at VERSION, or null when none is pinned. */
export function pinnedChart(chart: string, version: string, dir = CHART_SCHEMAS): PinnedChart | null {
  const d = join(dir, `${chart}-${version.replace(/^v/, '')}`);
  const schema = join(d, 'values.schema.json');
  if (!existsSync(schema)) return null;
  const defaults = join(d, 'values.yaml');
  return {
    schema: JSON.parse(readFileSync(schema, 'utf8')) as Values,
    defaults: existsSync(defaults) ? ((parse(readFileSync(defaults, 'utf8')) ?? {}) as Values) : null,
  };
}

/** Every pinned `<chart>-<version>` directory name. */
export function pinnedCharts(dir = CHART_SCHEMAS): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'values.schema.json')))
        .map((e) => e.name)
    : [];
}

/** Drops every `required`: a check of the given values alone, without the chart's defaults. */
function withoutRequired(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(withoutRequired);
  if (!isMap(s)) return s;
  return Object.fromEntries(
    Object.entries(s)
      .filter(([k, v]) => !(k === 'required' && Array.isArray(v)))
      .map(([k, v]) => [k, withoutRequired(v)]),
  );
}

function validator(schema: Values) {
  const draft = String(schema.$schema ?? '');
  const opts = { strict: false, allErrors: true };
  const ajv = draft.includes('2020-12')
    ? new Ajv2020(opts)
    : draft.includes('2019-09')
      ? new Ajv2019(opts)
      : new Ajv(opts);
  addFormats(ajv as Ajv);
  return ajv;
}

/**
 * The schema errors of VALUES for a pinned chart, as `path: message` lines (empty: valid). With
 * the chart's defaults pinned, the coalesced values are checked as Helm does; without them, the
 * given values alone, every `required` dropped (a default could satisfy it).
 */
export function chartValuesErrors(pinned: PinnedChart, values: Values): string[] {
  const schema = pinned.defaults ? pinned.schema : (withoutRequired(pinned.schema) as Values);
  const doc = pinned.defaults ? coalesce(pinned.defaults, values) : values;
  // The draft picks the validator; the URI itself is not looked up (charts spell draft-07's
  // with https://, which ajv does not know).
  const { $schema: _draft, ...body } = schema;
  const validate = validator(schema).compile(body);
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'}: ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}
