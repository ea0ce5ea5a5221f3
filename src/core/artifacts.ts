/** Names and checksums of the artifacts a region keeps (OS images, Kubernetes bundles). Pure. */
import { invalid } from './errors.ts';

/** A name doubles as a file name and URL path segment: lower case, no `..`, 1-63 characters. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export function isArtifactName(name: string): boolean {
  return NAME.test(name) && !name.includes('..');
}

/** Throws a validation error unless `name` is an artifact name (`what` says which kind). */
export function checkArtifactName(name: string, field: string, what: string): string {
  if (!isArtifactName(name))
    throw invalid(
      field,
      `"${name}" is not ${what}: 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

/** A SHA-256 as 64 lower-case hex digits (what the store keeps and the agent compares). */
export function isSha256(hex: string): boolean {
  return SHA256.test(hex);
}

/** Normalises a SHA-256 given by a person (spaces, upper case); throws a validation error otherwise. */
export function checkSha256(hex: string, field = 'sha256'): string {
  const h = hex.trim().toLowerCase();
  if (!isSha256(h)) throw invalid(field, `"${hex}" is not a SHA-256: 64 hex digits`);
  return h;
}
