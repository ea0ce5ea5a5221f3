import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { costSchemaJson } from '../../scripts/cost-schema.ts';
import { isIngotError } from '../core/errors.ts';
import {
  defaultCostModel,
  parseCostModel,
  parsePriceTable,
  resolveInputs,
  shippedPriceTable,
} from './model-file.ts';

const refused = (f: () => unknown, field: RegExp, message: RegExp) => {
  try {
    f();
  } catch (e) {
    assert.ok(isIngotError(e, 'INGOT_VALIDATION'), String(e));
    assert.match(String(e.details.field), field);
    assert.match(e.message, message);
    return;
  }
  assert.fail('expected a refusal');
};

describe('CostModel file', () => {
  it('fills every documented default into an empty model', () => {
    const m = defaultCostModel();
    assert.equal(m.spec.currency, 'USD');
    assert.deepEqual(m.spec.site, {
      pricePerKWh: 0.15,
      pue: 1.5,
      pricePerRackUnitMonth: 15,
      networkPerMonth: 0,
      staffFte: 0,
      staffCostPerYear: 150000,
      egressTBPerMonth: 0,
      bareMetalEgressPerTB: 0,
    });
    assert.deepEqual(m.spec.classes, [
      {
        name: 'default',
        match: {},
        price: 10000,
        amortisationMonths: 60,
        supportPercentPerYear: 8,
        nominalWatts: 350,
        rackUnits: 1,
      },
    ]);
    assert.equal(m.spec.cloud.priceTable, 'aws-us-east-1');
  });

  it('refuses unknown fields, wrong types and out-of-range numbers, naming the field', () => {
    const base = 'apiVersion: ingot.dev/v1alpha1\nkind: CostModel\nmetadata: {name: x}\n';
    refused(() => parseCostModel(`${base}spec: {site: {pue: 0.5}}`), /spec\.site\.pue/, /must be >= 1/);
    refused(
      () => parseCostModel(`${base}spec: {site: {pricePerKWh: "0.2"}}`),
      /pricePerKWh/,
      /must be number/,
    );
    refused(() => parseCostModel(`${base}spec: {sites: {}}`), /spec\.sites/, /not a known field/);
    refused(
      () => parseCostModel(`${base}spec: {classes: [{name: a}, {name: a}]}`),
      /CostModel/,
      /classes\[1\]\.name: "a" appears twice/,
    );
    refused(() => parseCostModel('kind: [unclosed'), /CostModel/, /is not YAML/);
  });

  it('ships a dated price table with its sources that the schema accepts', () => {
    const t = shippedPriceTable('aws-us-east-1');
    assert.match(t.metadata.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(t.sources.length >= 3 && t.sources.every((s) => s.url.startsWith('https://')));
    assert.deepEqual(t.terms, ['1y', '3y']);
    assert.ok(t.instances.some((i) => i.gpus === 8));
    const inputs = resolveInputs(defaultCostModel(), t);
    assert.equal(inputs.cloud.egressPerGB, 0.09);
    assert.equal(inputs.cloud.controlPlaneFeePerHour, 0.1);
  });

  it('refuses a reserved price for a term the table does not list, and a currency mismatch', () => {
    const table = (extra: string) =>
      `apiVersion: ingot.dev/v1alpha1\nkind: CloudPriceTable\nmetadata: {name: t, date: "2026-01-01"}\nsources: [{name: s, url: "https://x"}]\ncurrency: EUR\negressPerGB: 0.05\ncontrolPlaneFeePerHour: 0.1\nterms: [1y]\ninstances: [{name: a, vcpus: 2, memoryGiB: 4, onDemandPerHour: 0.1, reservedPerHour: {${extra}}}]\n`;
    refused(
      () => parsePriceTable(table('3y: 0.05')),
      /CloudPriceTable/,
      /reservedPerHour\.3y: is not one of terms \(1y\)/,
    );
    const t = parsePriceTable(table('1y: 0.05'));
    assert.equal(t.instances[0].gpus, 0, 'gpus defaults to 0');
    refused(() => resolveInputs(defaultCostModel(), t), /spec\.currency/, /USD but price table t is in EUR/);
  });

  it('accepts the example model shipped in examples/', () => {
    const text = readFileSync(
      join(import.meta.dirname, '..', '..', 'examples', 'cost', 'cost-model.yaml'),
      'utf8',
    );
    const m = parseCostModel(text, 'examples/cost/cost-model.yaml');
    assert.deepEqual(
      m.spec.classes.map((c) => c.name),
      ['gpu', 'control', 'general'],
    );
    assert.equal(resolveInputs(m, shippedPriceTable(m.spec.cloud.priceTable)).site.staffFte, 0.5);
  });

  it('publishes schema/cost-model.schema.json and schema/cloud-prices.schema.json generated from the TypeScript schema', () => {
    const root = join(import.meta.dirname, '..', '..', 'schema');
    assert.deepEqual(
      JSON.parse(readFileSync(join(root, 'cost-model.schema.json'), 'utf8')),
      JSON.parse(costSchemaJson('model')),
    );
    assert.deepEqual(
      JSON.parse(readFileSync(join(root, 'cloud-prices.schema.json'), 'utf8')),
      JSON.parse(costSchemaJson('prices')),
    );
  });
});
