import { toYaml } from './yaml.ts';
import { emitYaml } from './yaml-emit.ts';
import type { YamlTemplates } from './yaml-template.ts';
import { filled, numberYaml, scalarYaml, TOKEN, template } from './yaml-tokens.ts';

/**
 * `toYaml(value)` through a template shared by documents equal but for their single-line
 * strings and finite numbers (the leaves): the cluster manifests repeat one object per rack or
 * peer (Cilium's BGP cluster and peer configs, their password Secrets: 110 of the bench's 140
 * objects) with only names, addresses and ASNs different, and the YAML library costs ~0.1 ms an
 * object. Each leaf becomes a whole-line token (`toYamlOf`'s `L` tokens); the tokenised
 * document is serialised once per render and each document's leaves are written in with their
 * own YAML. Byte for byte `toYaml(value)` by `toYamlOf`'s argument: non-empty collections are
 * block collections and a single-line scalar outside keys is written the same wherever it sits
 * (a number as its own document too). Keys stay in the template (they sort the map). Anything
 * else (a multi-line leaf's YAML, a token-like string, a non-plain object, -0…) is `toYaml`.
 */
export function toYamlByLeaves(value: unknown, cache: YamlTemplates): string {
  const leaves: string[] = [];
  const skeleton = tokenised(value, leaves, cache);
  if (skeleton === NO) return toYaml(value);
  const json = JSON.stringify(skeleton);
  let t = cache.skeletons.get(json);
  if (t === undefined) {
    t = template(emitYaml(skeleton, cache) ?? toYaml(skeleton));
    cache.skeletons.set(json, t);
  }
  return filled(t, [], leaves) as string;
}

/**
 * Several objects as one multi-document YAML stream (`toYamlStream`), each through
 * `toYamlByLeaves` with a render's templates: documents repeated per rack, peer or node.
 */
export function toYamlStreamByLeaves(values: readonly unknown[], cache: YamlTemplates | undefined): string {
  return values.map((v) => (cache ? toYamlByLeaves(v, cache) : toYaml(v))).join('---\n');
}

/** `tokenised`'s answer when a value cannot go through a template. */
const NO = Symbol('no template');

/** `x` with each leaf a token, its YAML (a one-line document) pushed on `leaves`; NO if it cannot be. */
function tokenised(x: unknown, leaves: string[], cache: YamlTemplates): unknown {
  if (typeof x === 'string') {
    if (x.includes(TOKEN)) return NO;
    if (x.includes('\n')) return x;
    return leaf(scalarYaml(x, cache), leaves);
  }
  if (typeof x === 'number') {
    if (!Number.isFinite(x) || Object.is(x, -0)) return NO;
    return leaf(numberYaml(x), leaves);
  }
  if (x === null || typeof x === 'boolean') return x;
  if (Array.isArray(x)) {
    const out: unknown[] = [];
    for (const e of x) {
      const t = e === undefined ? NO : tokenised(e, leaves, cache);
      if (t === NO) return NO;
      out.push(t);
    }
    return out;
  }
  if (typeof x !== 'object' || Object.getPrototypeOf(x) !== Object.prototype) return NO;
  const out: Record<string, unknown> = {};
  for (const k in x) {
    const v = (x as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k.includes(TOKEN)) return NO;
    const t = tokenised(v, leaves, cache);
    if (t === NO) return NO;
    out[k] = t;
  }
  return out;
}

/** A token for a leaf whose YAML is `yaml`; NO when that YAML is not one line. */
function leaf(yaml: string, leaves: string[]): unknown {
  if (yaml.indexOf('\n') !== yaml.length - 1) return NO;
  leaves.push(yaml);
  return `${TOKEN}L${leaves.length - 1}Q`;
}
