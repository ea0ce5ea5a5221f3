/**
 * Writes schema/cost-model.schema.json and schema/cloud-prices.schema.json from
 * src/cost/model-schema.ts; a test checks they match. Run `biome format --write schema/`
 * afterwards; the test compares data, not whitespace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CostModelT, PriceTableT } from '../src/cost/model-schema.ts';

export function costSchemaJson(which: 'model' | 'prices'): string {
  const t = which === 'model' ? CostModelT : PriceTableT;
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...t }, null, 2)}\n`;
}

if (import.meta.main) {
  for (const [which, file] of [
    ['model', 'cost-model.schema.json'],
    ['prices', 'cloud-prices.schema.json'],
  ] as const) {
    const out = join(import.meta.dirname, '..', 'schema', file);
    writeFileSync(out, costSchemaJson(which));
    process.stdout.write(`wrote ${out}\n`);
  }
}
