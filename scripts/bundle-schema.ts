/**
 * Writes schema/bundle.schema.json (the JSON Schema of ingot-bundle.json) from
 * src/bundles/manifest-schema.ts; a test checks they match. Run `biome format --write schema/`
 * afterwards; the test compares data, not whitespace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleManifestFileT } from '../src/bundles/manifest-schema.ts';

export function bundleSchemaJson(): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...BundleManifestFileT }, null, 2)}\n`;
}

if (import.meta.main) {
  const out = join(import.meta.dirname, '..', 'schema', 'bundle.schema.json');
  writeFileSync(out, bundleSchemaJson());
  process.stdout.write(`wrote ${out}\n`);
}
