import { type Problem, throwProblems } from '../spec/problems.ts';
import type { ClusterSpec, SecretRef } from '../spec/types.ts';

/** Looks a secret up by name; undefined when unknown. */
export type SecretSource = (name: string) => string | undefined;

/** Every secret reference in a Cluster file with its path. */
export function secretRefs(c: ClusterSpec): { path: string; ref: SecretRef }[] {
  const out: { path: string; ref: SecretRef }[] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.secret === 'string' && Object.keys(o).length === 1)
        out.push({ path, ref: o as unknown as SecretRef });
      else for (const [k, x] of Object.entries(o)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(c.spec, 'spec');
  return out;
}

/**
 * Resolves every secret the cluster references up front, so a render either has all of them or
 * fails before writing anything, listing each missing one (names only: never values).
 */
export function resolveSecrets(c: ClusterSpec, source: SecretSource): ReadonlyMap<string, string> {
  const values = new Map<string, string>();
  const problems: Problem[] = [];
  for (const { path, ref } of secretRefs(c)) {
    const v = source(ref.secret);
    if (v === undefined || v === '')
      problems.push({
        path,
        message: `secret "${ref.secret}" is not set; add it to the --secrets file or set INGOT_SECRET_${envName(ref.secret)}`,
      });
    else values.set(ref.secret, v);
  }
  throwProblems('Secrets', problems);
  return values;
}

export function envName(secret: string): string {
  return secret.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}
