/** Names and checksums of the artifacts a region keeps (OS images, Kubernetes bundles). Pure. */
import { invalid } from './errors.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Throws a validation error unless `name` is an artifact name: it becomes a file and URL path segment. */
export function checkArtifactName(name: string, field: string, what: string): string {
  if (!NAME.test(name) || name.includes('..'))
    throw invalid(
      field,
      `"${name}" is not ${what}: 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

/** A SHA-256 as 64 lower-case hex digits (input may be upper-case or padded). */
export function checkSha256(hex: string, field = 'sha256'): string {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) throw invalid(field, `"${hex}" is not a SHA-256: 64 hex digits`);
  return h;
}
