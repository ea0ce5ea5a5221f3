import { toYaml } from './yaml.ts';
import type { YamlTemplates } from './yaml-template.ts';

/** A token stands for a node string (`Ingotvar<i>Q`) or a whole single-line string (`IngotvarL<i>Q`). */
export const TOKEN = 'Ingotvar';
const TOKENS = /Ingotvar(L?)(\d+)Q/g;

/**
 * A text cut at its tokens: `parts[0]`, then the text of token 0, `parts[1]`… A token is a node
 * string (`line` false: its index in `NodeVars.distinct`) or a whole single-line string (`line`
 * true: its index among the document's tokenised lines).
 */
export interface Template {
  readonly parts: readonly string[];
  readonly line: readonly boolean[];
  readonly index: readonly number[];
}

/** A text cut at its tokens. */
export function template(text: string): Template {
  const parts: string[] = [];
  const line: boolean[] = [];
  const index: number[] = [];
  let from = 0;
  for (const m of text.matchAll(TOKENS)) {
    parts.push(text.slice(from, m.index));
    line.push(m[1] !== '');
    index.push(Number(m[2]));
    from = m.index + m[0].length;
  }
  parts.push(text.slice(from));
  return { parts, line, index };
}

/**
 * The template's text with the node's strings and, for whole-line tokens, `lines`' YAML put
 * back; undefined when it names a string the node does not have. With `pieces`, the strings
 * the text is made of are added to it, in order (`NodeFile.pieces`).
 */
export function filled(
  t: Template,
  distinct: readonly string[],
  lines: readonly string[] = [],
  pieces?: string[],
): string | undefined {
  let out = t.parts[0];
  pieces?.push(out);
  for (let i = 0; i < t.index.length; i++) {
    const j = t.index[i];
    const s = t.line[i] ? lines[j]?.slice(0, -1) : distinct[j];
    if (s === undefined) return undefined;
    out += s + t.parts[i + 1];
    pieces?.push(s, t.parts[i + 1]);
  }
  return out;
}

/**
 * Whether `text` is `filled(t, distinct)` (no whole-line tokens), compared piece by piece where
 * they sit: no per-node copy of a large text (a bootstrap script) is built only to be compared.
 * (`slice` shares the text's characters; `startsWith` at an offset is ~20× slower in V8.)
 */
export function fills(t: Template, distinct: readonly string[], text: string): boolean {
  let at = 0;
  for (let i = 0; i <= t.index.length; i++) {
    const part = t.parts[i];
    if (text.slice(at, at + part.length) !== part) return false;
    at += part.length;
    if (i === t.index.length) break;
    const s = t.line[i] ? undefined : distinct[t.index[i]];
    if (s === undefined || text.slice(at, at + s.length) !== s) return false;
    at += s.length;
  }
  return at === text.length;
}

/**
 * Strings YAML 1.1 writes as they are: DNS names, paths and other words of letters, digits and
 * `._/-` that start with a letter or `/` (`apps/v1`, `ingot.dev/rack`, `/etc/kubernetes`: no
 * YAML 1.1 number, timestamp or indicator starts so but a bare exponent, `e1`, which the
 * library reads as a float),
 * unless a boolean or null word in any case; IPv4 addresses
 * and CIDRs; MACs, except a MAC a YAML 1.1 reader takes for a base-60 integer (the yaml
 * library's `intTime`: `52:54:00:12:34:56`), which is double-quoted.
 */
const PLAIN = /^(?:[A-Za-z/][A-Za-z0-9._/-]*|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?)$/;
const WORDS = /^(?:y|n|yes|no|on|off|true|false|null)$/i;
const EXPONENT = /^[eE][-+]?[0-9]/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$/;

/** Whether the yaml library writes `s` as it is, as a value or a key (`PLAIN`). */
export function plainWord(s: string): boolean {
  return PLAIN.test(s) && !WORDS.test(s) && !EXPONENT.test(s);
}

/**
 * What makes the library quote a single-line string (its `plainString`): an indicator first,
 * `: ` or ` #` inside, a space or colon last; and control characters (double quotes).
 */
const INDICATORS = /^[\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|:[ \t]|[\t ]#|[\t :]$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the very characters the yaml library quotes (stringifyString).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
/** The same by UTF-16 unit: any surrogate, paired or not. Scans ~5× faster than the Unicode-mode pattern. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: as CONTROL.
const CONTROL_OR_SURROGATE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\uD800-\uDFFF]/;

/**
 * Whether `s` holds a control character or a lone surrogate: the library double-quotes such a
 * string. Text without either class of unit skips the Unicode-mode pattern (a block of cluster
 * manifests is ~100 KB, and its scan took ~0.5 ms per render).
 */
export function hasControl(s: string): boolean {
  return CONTROL_OR_SURROGATE.test(s) && CONTROL.test(s);
}

/**
 * Whether the library writes a single-line value `s` as it is: text starting with a letter that
 * none of `INDICATORS` quote, not a boolean or null word, not a bare exponent (no other YAML
 * 1.1 type starts with a letter), and on one line for JavaScript too: after a U+2028 the
 * library's document-marker test (`/^%|^---/m`) can match, and a whole document is then a block.
 */
function plainText(s: string): boolean {
  return (
    /^[A-Za-z][^\n\u2028\u2029]*$/.test(s) &&
    !INDICATORS.test(s) &&
    !hasControl(s) &&
    !WORDS.test(s) &&
    !EXPONENT.test(s)
  );
}

/** The YAML of a single-line string as a document: `toYaml(s)`, faster for names, addresses and text. */
export function scalarYaml(s: string, cache: YamlTemplates): string {
  if (plainWord(s) || plainText(s)) return `${s}\n`;
  if (MAC.test(s)) return BASE60.test(s) ? `"${s}"\n` : `${s}\n`;
  let y = cache.scalars.get(s);
  if (y === undefined) {
    y = toYaml(s);
    cache.scalars.set(s, y);
  }
  return y;
}

/**
 * The YAML of a number as a document: `toYaml(n)`. A finite number other than -0 is its JSON
 * (the library's `stringifyNumber` for YAML 1.1's int and float tags; 172,000 numbers compared).
 */
export function numberYaml(n: number): string {
  return Number.isFinite(n) && !Object.is(n, -0) ? `${JSON.stringify(n)}\n` : toYaml(n);
}
