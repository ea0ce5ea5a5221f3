/**
 * Writes schema/cluster.schema.json from src/cluster/spec/schema.ts (a test checks they match).
 * Run `biome format --write schema/` afterwards; the test compares data, not whitespace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterSchema } from '../src/cluster/spec/schema.ts';

export function schemaJson(): string {
  return `${JSON.stringify(clusterSchema, null, 2)}\n`;
}

if (import.meta.main) {
  const out = join(import.meta.dirname, '..', 'schema', 'cluster.schema.json');
  writeFileSync(out, schemaJson());
  process.stdout.write(`wrote ${out}\n`);
}
