import type { PieceShape } from './content-pieces.ts';
import { toYaml } from './yaml.ts';
import { emitYaml } from './yaml-emit.ts';
import { type DocShape, fromShapes, keepShape } from './yaml-doc-shapes.ts';
import { filled, scalarYaml, type Template, TOKEN, template } from './yaml-tokens.ts';

export { scalarYaml } from './yaml-tokens.ts';

/**
 * Per-node YAML from one template per node shape. A 1,000-node render serialises the same
 * documents (user-data, kubeadm join config, network-config) 1,000 times with only a few
 * per-node strings different (hostname, address, IP, MACs), and the YAML library costs ~1 ms a
 * document (bench/cluster.ts, bench/cluster-create.ts). `toYamlOf` replaces those strings by
 * tokens, serialises each distinct tokenised document once, and puts the node's text back.
 * The result is byte-for-byte `toYaml(value)` (yaml-template.test.ts compares them on mixed
 * plans), because a token can never change how a scalar is written:
 * - a single-line string holding a node string becomes one token for the whole string, put
 *   back as that string's own YAML (plain or quoted: a single-line scalar outside keys and flow
 *   collections is written the same wherever it sits);
 * - in a multi-line string (a block literal, written verbatim) each node string becomes a
 *   token; node strings and tokens are single "words" (letters, digits, `.:/=,-`, starting
 *   with a letter or digit), so no indentation, chomping, blank line or escape changes;
 * - when a map key holds a node string (keys are sorted: a token could sort differently), the
 *   value is not plain data (strings, finite numbers, booleans, null, arrays, plain objects) or
 *   a node string is not a word, it is `toYaml(value)`.
 */
export interface YamlTemplates {
  /** Tokenised document's JSON → its YAML, cut at the tokens. */
  readonly docs: Map<string, Template>;
  /** Single-line string → its YAML as a document. */
  readonly scalars: Map<string, string>;
  /** List items' YAML by their `ListItem.content` and `id`: items shared by every node. */
  readonly items: Map<string, Map<string, string>>;
  /** Per-node list items' templates by their `ListItem.id` (yaml-list.ts). */
  readonly shapes: Map<string, ItemShape[]>;
  /** List items' ids by path and mode (cloud-init.ts): one string each per render. */
  readonly ids: Map<string, Map<number, string>>;
  /** Documents' shapes by their top-level keys (yaml-doc-shapes.ts). */
  readonly docShapes: Map<string, DocShape[]>;
  /** A node's strings → how to find them; null when one is not a word. */
  readonly vars: WeakMap<readonly string[], NodeVars | null>;
}

export function yamlTemplates(): YamlTemplates {
  return {
    docs: new Map(),
    scalars: new Map(),
    items: new Map(),
    shapes: new Map(),
    ids: new Map(),
    docShapes: new Map(),
    vars: new WeakMap(),
  };
}

/**
 * A list item whose large string holds node strings, as a template: a node's item is this one
 * when its other fields are `rest` and its large string is `content` filled with its strings;
 * its YAML is then `yaml` filled with them.
 */
export interface ItemShape {
  /** The item's other fields, in order: flat data (strings, booleans, finite numbers). */
  readonly rest: readonly (readonly [string, unknown])[];
  readonly content: Template;
  /** `content` cut at the pieces of the content it was made from (`ListItem.pieces`). */
  readonly pieces?: PieceShape;
  readonly yaml: Template;
}

/** One node's strings, in the order given; the pattern that finds them is made when needed. */
export interface NodeVars {
  readonly distinct: readonly string[];
  pattern?: RegExp;
}

const WORD = /^[A-Za-z0-9][A-Za-z0-9._:/=,-]*$/;

/** Whether a node string can be a template token: a "word" (see `toYamlOf`). */
export function isTemplateWord(s: string): boolean {
  return WORD.test(s);
}

class Fallback extends Error {}

/** A node's strings, once per render; null when one is not a word. */
export function nodeVars(vars: readonly string[], cache: YamlTemplates): NodeVars | null {
  let v = cache.vars.get(vars);
  if (v === undefined) {
    // Tokens number the strings in the order given, so nodes whose strings differ in length
    // share templates.
    const distinct: string[] = [];
    for (const x of vars) if (x !== '' && !distinct.includes(x)) distinct.push(x);
    v = distinct.every((x) => WORD.test(x)) ? { distinct } : null;
    cache.vars.set(vars, v);
  }
  return v;
}

/**
 * `x` with each node string a token. The pattern tries the longest first, so a string inside
 * another (an IP inside its CIDR) is found last: at one position a regular expression takes the
 * first alternative that matches.
 */
export function tokenised(x: string, nv: NodeVars): string {
  nv.pattern ??= new RegExp(
    [...nv.distinct]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[./]/g, '\\$&'))
      .join('|') || '(?!)',
    'g',
  );
  return x.replace(nv.pattern, (s) => `${TOKEN}${nv.distinct.indexOf(s)}Q`);
}

/** Whether `x` holds one of the node's strings. */
function holds(x: string, nv: NodeVars): boolean {
  for (const s of nv.distinct) if (x.includes(s)) return true;
  return false;
}

/**
 * `toYaml(value)`, through a template shared by documents equal but for `vars`. With `pieces`
 * (empty), the strings the YAML is made of are added to it when it comes from a template.
 */
export function toYamlOf(
  value: unknown,
  vars: readonly string[],
  cache: YamlTemplates,
  pieces?: string[],
): string {
  // A kept shape's tokens are whole single-line strings, which need not be words.
  const known = fromShapes(value, cache, pieces);
  if (known !== undefined) return known;
  const nv = nodeVars(vars, cache);
  if (nv === null) return toYaml(value);
  // Single-line strings holding a node string, in order: each becomes one token whose YAML is
  // the string's own (quoted or not); a multi-line one keeps its text with the strings tokenised.
  const lines: string[] = [];
  const tokenise = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (x.includes(TOKEN)) throw new Fallback();
      if (!holds(x, nv)) return x;
      if (!x.includes('\n')) {
        lines.push(x);
        return `${TOKEN}L${lines.length - 1}Q`;
      }
      return tokenised(x, nv);
    }
    if (x === null || typeof x === 'boolean') return x;
    if (typeof x === 'number') {
      if (!Number.isFinite(x) || Object.is(x, -0)) throw new Fallback();
      return x;
    }
    if (Array.isArray(x)) {
      return x.map((e) => {
        if (e === undefined) throw new Fallback();
        return tokenise(e);
      });
    }
    if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) {
        if (k.includes(TOKEN) || holds(k, nv)) throw new Fallback();
        if (v !== undefined) out[k] = tokenise(v);
      }
      return out;
    }
    throw new Fallback();
  };
  let doc: unknown;
  try {
    doc = tokenise(value);
  } catch (e) {
    if (e instanceof Fallback) return toYaml(value);
    throw e;
  }
  const scalars = lines.map((l) => scalarYaml(l, cache));
  if (scalars.some((y) => y.indexOf('\n') !== y.length - 1)) return toYaml(value);
  const json = JSON.stringify(doc);
  let t = cache.docs.get(json);
  if (t === undefined) {
    t = template(emitYaml(doc, cache) ?? toYaml(doc));
    cache.docs.set(json, t);
    keepShape(value, doc, t, cache);
  }
  return filled(t, nv.distinct, scalars, pieces) as string;
}
