import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { checkCluster } from './checks.ts';
import { type Problem, pointerToPath, throwProblems } from './problems.ts';
import { clusterSchema } from './schema.ts';
import type { ClusterSpec } from './types.ts';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validateShape = ajv.compile(clusterSchema);

function describe(e: ErrorObject): Problem {
  const base = pointerToPath(e.instancePath) || '(root)';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        path: base === '(root)' ? String(p.missingProperty) : `${base}.${p.missingProperty}`,
        message: 'is required',
      };
    case 'additionalProperties':
      return {
        path: base === '(root)' ? String(p.additionalProperty) : `${base}.${p.additionalProperty}`,
        message: 'is not a known field; check its spelling against docs/cluster.md',
      };
    case 'enum':
      return {
        path: base,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path: base, message: `must be ${JSON.stringify(p.allowedValue)}` };
    default:
      return { path: base, message: e.message ?? 'is invalid' };
  }
}

/**
 * Checks a parsed Cluster document against the schema and every cross-field rule, fills in
 * defaults, and returns it typed. Throws one IngotError listing every problem with its path.
 */
export function validateCluster(input: unknown): ClusterSpec {
  const doc = structuredClone(input);
  if (!validateShape(doc)) {
    const seen = new Set<string>();
    const problems: Problem[] = [];
    for (const p of (validateShape.errors ?? []).map(describe)) {
      const key = `${p.path}\0${p.message}`;
      if (!seen.has(key)) problems.push(p);
      seen.add(key);
    }
    // Cross-field rules still run on a document of the wrong shape (best effort), so the user
    // sees an overlapping CIDR together with a misspelt field instead of one round trip each.
    try {
      for (const p of checkCluster(doc as ClusterSpec))
        if (!seen.has(`${p.path}\0${p.message}`)) problems.push(p);
    } catch {
      // The shape was too broken for the cross-field rules; the shape problems say why.
    }
    throwProblems('Cluster file', problems);
  }
  const spec = doc as ClusterSpec;
  throwProblems('Cluster file', checkCluster(spec));
  return spec;
}

/** Parses Cluster YAML text (YAML errors are reported with line numbers) and validates it. */
export function parseClusterFile(text: string, source = 'cluster.yaml'): ClusterSpec {
  const d = parseDocument(text, { prettyErrors: true });
  if (d.errors.length > 0) {
    throwProblems(
      source,
      d.errors.map((e) => ({
        path: `line ${e.linePos?.[0].line ?? '?'}`,
        message: e.message.split('\n')[0],
      })),
    );
  }
  let value: unknown;
  try {
    value = d.toJS();
  } catch (e) {
    // The yaml library throws (rather than reporting) when aliases expand past its limit (a
    // "billion laughs" file): bad input like any other, reported as a problem.
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throwProblems(source, [
        { path: '(root)', message: 'YAML aliases (*name) expand too far; write the values out instead' },
      ]);
    }
    throw e;
  }
  return validateCluster(value);
}
