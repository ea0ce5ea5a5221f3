/** Reading an `ingot-bundle.json`: size-bounded, JSON, then the schema, every problem with its field path. */
import { readFileSync, statSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { BUNDLE_MANIFEST_FILE } from '../core/bundle.ts';
import { ErrorCode, IngotError } from '../core/errors.ts';
import { fieldPathOf } from '../core/field-path.ts';
import { type BundleManifestFile, BundleManifestFileT } from './manifest-schema.ts';

const MAX_BYTES = 1024 * 1024;
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(BundleManifestFileT);

/** `/images/2/path` → `images[2].path`. */
function fieldOf(e: ErrorObject): string {
  return fieldPathOf(e) || '(root)';
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return 'is not a known field; see docs/bundles.md';
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'enum') return `must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(p.allowedValue)}`;
  return e.message ?? 'is invalid';
}

/** Parses and checks the manifest text; `shownAs` is its path in the bundle. */
export function parseManifestFile(text: string, shownAs = BUNDLE_MANIFEST_FILE): BundleManifestFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IngotError(ErrorCode.Validation, `${shownAs}: is not JSON (${(e as Error).message})`, {
      details: { field: shownAs },
    });
  }
  if (!validate(doc)) {
    const problems = [...new Set((validate.errors ?? []).map((e) => `${fieldOf(e)}: ${describe(e)}`))];
    throw new IngotError(
      ErrorCode.Validation,
      `${shownAs}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`,
      { details: { field: shownAs, problems } },
    );
  }
  return doc as BundleManifestFile;
}

export function readManifestFile(path: string, shownAs = BUNDLE_MANIFEST_FILE): BundleManifestFile {
  if (statSync(path).size > MAX_BYTES)
    throw new IngotError(
      ErrorCode.Validation,
      `${shownAs}: is larger than 1 MiB; a manifest lists files, it does not hold them`,
      {
        details: { field: shownAs },
      },
    );
  return parseManifestFile(readFileSync(path, 'utf8'), shownAs);
}
