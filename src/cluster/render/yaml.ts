import { stringify } from 'yaml';

/**
 * Stable YAML for everything Ingot renders: keys sorted, no line folding, and YAML 1.1 quoting
 * so strings like `on`, `no`, `0600` or `52:54:00:12:34:56` stay strings for YAML 1.1 readers
 * (cloud-init's PyYAML, Go's yaml.v2 in Kubernetes tools). Sorted Kubernetes objects read
 * naturally anyway: apiVersion, kind, metadata, spec.
 */
export function toYaml(value: unknown): string {
  return stringify(value, {
    version: '1.1',
    sortMapEntries: true,
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}

/** Several objects as one multi-document YAML stream. */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map((v) => toYaml(v)).join('---\n');
}
