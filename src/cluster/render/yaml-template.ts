import { toYaml } from './yaml.ts';

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
 *   token; node strings and tokens are single "words" (letters, digits, `.:/-`, starting with a
 *   letter or digit), so no indentation, chomping, blank line or escape changes;
 * - when a map key holds a node string (keys are sorted: a token could sort differently), the
 *   value is not plain data (strings, finite numbers, booleans, null, arrays, plain objects) or
 *   a node string is not a word, it is `toYaml(value)`.
 */
export interface YamlTemplates {
  /** Tokenised document's JSON → its YAML. */
  readonly docs: Map<string, string>;
  /** Single-line string → its YAML as a document. */
  readonly scalars: Map<string, string>;
  /** List items' YAML by their `ListItem.content` and `id`: items shared by every node. */
  readonly items: Map<string, Map<string, string>>;
}

export function yamlTemplates(): YamlTemplates {
  return { docs: new Map(), scalars: new Map(), items: new Map() };
}

const WORD = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const TOKEN = 'Ingotvar';
const TOKENS = /Ingotvar(L?)(\d+)Q/g;

class Fallback extends Error {}

/** Where the first of `strings` starts in `x` from `from`, and which: leftmost, longest first. */
function firstOf(x: string, strings: readonly string[], from: number): [at: number, which: number] {
  let at = -1;
  let which = -1;
  for (let i = 0; i < strings.length; i++) {
    const j = x.indexOf(strings[i], from);
    if (j !== -1 && (at === -1 || j < at)) [at, which] = [j, i];
  }
  return [at, which];
}

/** `toYaml(value)`, through a template shared by documents equal but for `vars`. */
export function toYamlOf(value: unknown, vars: readonly string[], cache: YamlTemplates): string {
  // Longest first, so a string inside another (an IP inside its CIDR) is found last.
  const distinct = [...new Set(vars.filter((v) => v !== ''))].sort((a, b) => b.length - a.length);
  if (!distinct.every((v) => WORD.test(v))) return toYaml(value);
  const found = (x: string) => distinct.some((v) => x.includes(v));
  // Single-line strings holding a node string, in order: each becomes one token whose YAML is
  // the string's own (quoted or not); a multi-line one keeps its text with the strings tokenised.
  const lines: string[] = [];
  let tokens = false;
  const tokenise = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (x.includes(TOKEN)) throw new Fallback();
      if (!found(x)) return x;
      tokens = true;
      if (!x.includes('\n')) {
        lines.push(x);
        return `${TOKEN}L${lines.length - 1}Q`;
      }
      let out = '';
      let from = 0;
      for (let [at, i] = firstOf(x, distinct, 0); at !== -1; [at, i] = firstOf(x, distinct, from)) {
        out += `${x.slice(from, at)}${TOKEN}${i}Q`;
        from = at + distinct[i].length;
      }
      return out + x.slice(from);
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
        if (k.includes(TOKEN) || found(k)) throw new Fallback();
        if (v !== undefined) out[k] = tokenise(v);
      }
      return out;
    }
    throw new Fallback();
  };
  let tokenised: unknown;
  try {
    tokenised = tokenise(value);
  } catch (e) {
    if (e instanceof Fallback) return toYaml(value);
    throw e;
  }
  const scalars = lines.map((l) => scalarYaml(l, cache));
  if (scalars.some((y) => y.indexOf('\n') !== y.length - 1)) return toYaml(value);
  const json = JSON.stringify(tokenised);
  let yaml = cache.docs.get(json);
  if (yaml === undefined) {
    yaml = toYaml(tokenised);
    cache.docs.set(json, yaml);
  }
  return tokens
    ? yaml.replace(TOKENS, (_, line, i) => (line ? scalars[Number(i)].slice(0, -1) : distinct[Number(i)]))
    : yaml;
}

/**
 * Strings YAML 1.1 writes as they are: DNS names (not a boolean or null word), IPv4 addresses
 * and CIDRs, MACs; except a MAC a YAML 1.1 reader takes for a base-60 integer (the yaml
 * library's `intTime`: `52:54:00:12:34:56`), which is double-quoted.
 */
const PLAIN = /^(?:[a-z][a-z0-9-]*|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?)$/;
const WORDS = /^(?:y|n|yes|no|on|off|true|false|null)$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$/;

/** The YAML of a single-line string as a document: `toYaml(s)`, faster for names and addresses. */
export function scalarYaml(s: string, cache: YamlTemplates): string {
  if (PLAIN.test(s) && !WORDS.test(s)) return `${s}\n`;
  if (MAC.test(s)) return BASE60.test(s) ? `"${s}"\n` : `${s}\n`;
  let y = cache.scalars.get(s);
  if (y === undefined) {
    y = toYaml(s);
    cache.scalars.set(s, y);
  }
  return y;
}

/** One item of a list: `content` and `id` together identify `value` (a file: content; path, mode). */
export interface ListItem {
  readonly value: object;
  /** The item's large string: the same string object for every node that shares it. */
  readonly content: string;
  readonly id: string;
}

/**
 * `toYaml({ ...head, [key]: items })` when `key` sorts after every key of `head`, built from the
 * head's and each item's YAML (a block sequence's items are serialised independently of each
 * other). A node's user-data shares most files with every other node (CA certificates,
 * containerd, packages…): those are looked up by their content, no scan; its per-node files
 * (bootstrap, kubeadm config) go through `toYamlOf`, shared by nodes of its shape.
 */
export function toYamlWithList(
  head: Record<string, unknown>,
  key: string,
  items: readonly ListItem[],
  vars: readonly string[],
  cache: YamlTemplates,
): string {
  if (items.length === 0 || Object.keys(head).some((k) => k >= key))
    return toYamlOf({ ...head, [key]: items.map((i) => i.value) }, vars, cache);
  const prefix = `${key}:\n`;
  let out = `${toYamlOf(head, vars, cache)}${prefix}`;
  for (const item of items) {
    let byId = cache.items.get(item.content);
    let yaml = byId?.get(item.id);
    if (yaml === undefined) {
      yaml = toYamlOf({ [key]: [item.value] }, vars, cache).slice(prefix.length);
      if (!byId) {
        byId = new Map();
        cache.items.set(item.content, byId);
      }
      byId.set(item.id, yaml);
    }
    out += yaml;
  }
  return out;
}
