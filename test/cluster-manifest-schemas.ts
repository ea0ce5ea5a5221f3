/**
 * Validates Kubernetes objects the way the issue asks: core kinds with `kubernetes-models`,
 * Prometheus Operator / Flux / Argo CD kinds with their @kubernetes-models packages, and
 * everything else against the upstream CRDs pinned in test/fixtures/crds/, keyed by
 * (group, version, kind). An object no validator knows is an error, never a silent pass.
 * Used by test/cluster-validators.test.ts; not a test file itself.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

export const CRD_DIR = join(import.meta.dirname, 'fixtures', 'crds');

type Obj = { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } };

const MODEL_PACKAGES: Record<string, string> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'source.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
  'kustomize.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
  'helm.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
  'argoproj.io': '@kubernetes-models/argo-cd',
};

/** Core API groups served by kubernetes-models. */
const CORE_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'rbac.authorization.k8s.io',
  'networking.k8s.io',
  'storage.k8s.io',
  'policy',
  'scheduling.k8s.io',
  'admissionregistration.k8s.io',
]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

/**
 * CRD schemas are "structural": the API server prunes unknown fields instead of refusing them.
 * A renderer's typo would vanish silently, so here unknown fields are errors (kubeconform's
 * strict mode does the same), except where the schema preserves unknown fields.
 */
function strict(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([p, s]) => [p, strict(s as Record<string, unknown>)]),
      );
    } else if (
      (k === 'items' || k === 'additionalProperties') &&
      v &&
      typeof v === 'object' &&
      !Array.isArray(v)
    ) {
      out[k] = strict(v as Record<string, unknown>);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((s) => strict(s as Record<string, unknown>));
    } else out[k] = v;
  }
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    !schema['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  if (schema['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.type === undefined) delete out.nullable; // Ajv insists on a type next to nullable
  return out;
}

/** CRD patterns are Go RE2: translate its inline `(?i)` flag and one-letter classes (`\\PC`). */
const re2 = Object.assign(
  (pattern: string, flags: string) => {
    const p = pattern.replace(/\\([pP])([A-Z])/g, '\\$1{$2}');
    return p.includes('(?i)') ? new RegExp(p.replaceAll('(?i)', ''), `${flags}i`) : new RegExp(p, flags);
  },
  { code: 'new RegExp' },
);

export class ManifestValidator {
  readonly #crds = new Map<string, ValidateFunction>();
  readonly #ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: re2 } });

  constructor(crdDir = CRD_DIR) {
    for (const f of files(crdDir)) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        const crd = doc.toJS() as {
          kind?: string;
          spec?: {
            group: string;
            names: { kind: string };
            versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[];
          };
        } | null;
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        for (const v of crd.spec.versions) {
          const schema = strict(v.schema.openAPIV3Schema);
          // apiVersion/kind/metadata are checked by the API machinery, not the CRD schema.
          const props = {
            ...(schema.properties as Record<string, unknown>),
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: { type: 'object' },
          };
          this.#crds.set(
            `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`,
            this.#ajv.compile({ ...schema, properties: props }),
          );
        }
      }
    }
  }

  get crdCount(): number {
    return this.#crds.size;
  }

  /** Returns a list of problems for one object (empty when valid) and which validator ran. */
  async validate(obj: Obj): Promise<{ validator: string; errors: string[] }> {
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    const id = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    if (!obj.metadata?.name) return { validator: 'metadata', errors: [`${id}: metadata.name is required`] };
    const pkg = CORE_GROUPS.has(group) ? 'kubernetes-models' : MODEL_PACKAGES[group];
    if (pkg) {
      const mod = (await import(`${pkg}/${group ? `${group}/` : ''}${version}`)) as Record<
        string,
        new (
          o: unknown,
        ) => { validate(): void }
      >;
      const Kind = mod[obj.kind];
      if (!Kind) return { validator: pkg, errors: [`${id}: ${pkg} has no ${obj.apiVersion} ${obj.kind}`] };
      try {
        new Kind(obj).validate();
        return { validator: pkg, errors: [] };
      } catch (e) {
        return { validator: pkg, errors: [`${id}: ${(e as Error).message}`] };
      }
    }
    const v = this.#crds.get(`${group}/${version}/${obj.kind}`);
    if (!v) return { validator: 'none', errors: [`${id}: no schema for ${obj.apiVersion} ${obj.kind}`] };
    if (v(obj)) return { validator: `crd:${group}`, errors: [] };
    return {
      validator: `crd:${group}`,
      errors: (v.errors ?? []).map(
        (e) => `${id}: ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
      ),
    };
  }
}
