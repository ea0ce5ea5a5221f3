import type { PlannedNode } from '../plan/types.ts';
import { BOOTSTRAP_PATH } from './bootstrap.ts';
import { cloudConfig, userData, userDataHead, writeFileValue } from './cloud-init.ts';
import { labelsArg, perRender, presetNodeLabelsArg, type RenderContext } from './context.ts';
import { joinConfiguration } from './kubeadm.ts';
import { nodeFiles, type Shared } from './node-files.ts';
import { KUBEADM_DIR } from './security.ts';
import { emitYaml } from './yaml-emit.ts';
import { isTemplateWord, type YamlTemplates } from './yaml-template.ts';
import { filled, scalarYaml, type Template, TOKEN, template } from './yaml-tokens.ts';

/**
 * A kubeadm worker's user-data from one template per render and worker class, filled with the
 * node's own strings: its hostname, IP and `--node-labels` value. 994 of the bench's 1,000
 * nodes are workers whose user-data differ in those three strings only; building each one's
 * files, documents and list items to find that out again cost ~15 ms a render.
 *
 * A class is what a worker's files may read of it besides those strings: its role, init flag
 * and taints (`classKey`). The template is rendered once, by the same functions as any node's,
 * for a *template node*: the class's fields, a token for each of the three strings, and nothing
 * else — reading any other field of it (its address, NICs, rack…) throws, and the class is then
 * rendered node by node. So are classes whose template holds a token anywhere but as a whole
 * scalar of the join config or the user-data's head, or as words in the bootstrap script and
 * join config (literal blocks). A node's strings fill the template when each is a template
 * word the YAML library writes as it is (`asIsWord`): in a literal block and as a whole plain
 * scalar, such a word is written the same wherever a token stood (`toYamlOf`'s argument).
 * The class's first node is rendered node by node and must equal its template filled, or the
 * class is rendered node by node.
 *
 * Left out because their files depend on more than a node's fields: the bridge CNI config (the
 * node's place in the plan) and k3s and RKE2 (a server compares its hostname with the first
 * server's); and control planes and etcd members (one to five a cluster: a template costs more
 * than it saves).
 */
export function nodeUserData(ctx: RenderContext, node: PlannedNode, shared: Shared): string {
  const cache = ctx.yaml;
  const values = cache && templatable(ctx, node) ? nodeValues(node, cache) : undefined;
  if (cache === undefined || values === undefined) return userData(ctx, node, nodeFiles(ctx, node, shared));
  const classes = perRender(ctx, nodeClasses);
  const key = classKey(node);
  const t = classes.get(key);
  if (t) return filled(t, values) as string;
  const out = userData(ctx, node, nodeFiles(ctx, node, shared));
  if (t === undefined) {
    const made = classTemplate(ctx, node, shared, cache);
    classes.set(key, made !== undefined && filled(made, values) === out ? made : null);
  }
  return out;
}

/** The tokens of a template node's strings: its hostname, IP and `--node-labels` value. */
const TOKENS = [`${TOKEN}0Q`, `${TOKEN}1Q`, `${TOKEN}2Q`] as const;

/** Templates by class, one map per render; null for a class rendered node by node. */
const nodeClasses = (): Map<string, Template | null> => new Map();

function templatable(ctx: RenderContext, node: PlannedNode): boolean {
  const s = ctx.spec.spec;
  return s.distribution === 'kubeadm' && s.networking.cni.plugin !== 'bridge' && node.role === 'worker';
}

/** What a template node holds besides its tokens (`templateNode`). */
function classKey(node: PlannedNode): string {
  return `${node.role}\n${node.init}\n${JSON.stringify(node.taints)}`;
}

/** The node's strings in token order, when each fills a template (a word written as it is). */
function nodeValues(node: PlannedNode, cache: YamlTemplates): string[] | undefined {
  const values = [node.hostname, node.ip, labelsArg(node)];
  for (const v of values) if (!asIsWord(v, cache)) return undefined;
  return values;
}

/**
 * Whether `v` is a template word, holds no token and is written as it is (`scalarYaml`). Read
 * character by character for names and IPv4 addresses (three strings a node): letters, digits and
 * `._/=,-` starting with a letter, not all letters (a YAML 1.1 boolean or null word), not `e` or
 * `E`, a minus or not, and a digit (an exponent); or a dotted quad. Anything else is asked of the full rules.
 */
export function asIsWord(v: string, cache: YamlTemplates): boolean {
  if (v.includes(TOKEN)) return false;
  if (plainName(v) || dottedQuad(v)) return true;
  return isTemplateWord(v) && scalarYaml(v, cache) === `${v}\n`;
}

function plainName(v: string): boolean {
  const n = v.length;
  if (n === 0 || !isLetter(v.charCodeAt(0))) return false;
  let letters = true;
  for (let i = 1; i < n; i++) {
    const c = v.charCodeAt(i);
    if (isLetter(c)) continue;
    letters = false;
    // 0-9 . / = , - _
    if ((c >= 48 && c <= 57) || c === 46 || c === 47 || c === 61 || c === 44 || c === 45 || c === 95)
      continue;
    return false;
  }
  // An exponent: e or E, a sign or not, a digit.
  const c0 = v.charCodeAt(0);
  const c1 = v.charCodeAt(1);
  const sign = c1 === 45 ? 1 : 0;
  const d = v.charCodeAt(1 + sign);
  return !letters && !((c0 === 101 || c0 === 69) && d >= 48 && d <= 57);
}

function dottedQuad(v: string): boolean {
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
    } else if (c === 46 && digits > 0 && dots < 3) {
      dots++;
      digits = 0;
    } else return false;
  }
  return dots === 3 && digits > 0;
}

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A template node read outside its class. */
export class Unfit extends Error {}

/** `node`'s class fields and the tokens; any other read of it throws `Unfit`. */
export function templateNode(node: PlannedNode): PlannedNode {
  const t = guarded<PlannedNode>({
    role: node.role,
    init: node.init,
    taints: node.taints,
    hostname: TOKENS[0],
    ip: TOKENS[1],
  });
  presetNodeLabelsArg(t, TOKENS[2]);
  return t;
}

/**
 * An object with `fields` only, standing for a `T`: reading any other property, listing its keys
 * or spreading it throws `Unfit` (so a template built from it read nothing else).
 */
export function guarded<T>(fields: Record<string, unknown>): T {
  const unfit = (): never => {
    throw new Unfit();
  };
  return new Proxy(fields, {
    get: (f, k) => (typeof k === 'string' && Object.hasOwn(f, k) ? f[k] : unfit()),
    has: unfit,
    ownKeys: unfit,
    getOwnPropertyDescriptor: unfit,
  }) as unknown as T;
}

const KUBEADM_CONFIG = `${KUBEADM_DIR}/kubeadm.yaml`;

/** The class's user-data with tokens for the node's strings, cut at them; undefined if it cannot be one. */
function classTemplate(
  ctx: RenderContext,
  node: PlannedNode,
  shared: Shared,
  cache: YamlTemplates,
): Template | undefined {
  const t = templateNode(node);
  // Without the render's templates: they are found by the node's strings, which it has not.
  const bare: RenderContext = { ...ctx, yaml: undefined };
  try {
    const head = userDataHead(bare, TOKENS[0]);
    if (!wholeTokens(head) || !wholeTokens(joinConfiguration(bare, t))) return undefined;
    const files = nodeFiles(bare, t, shared);
    for (const f of files) {
      if (f.path.includes(TOKEN)) return undefined;
      if (f.content.includes(TOKEN) && f.path !== BOOTSTRAP_PATH && f.path !== KUBEADM_CONFIG)
        return undefined;
    }
    const yaml = emitYaml({ ...head, write_files: files.map(writeFileValue) }, cache);
    return yaml === undefined ? undefined : template(cloudConfig(bare, TOKENS[0], t.role, yaml));
  } catch (e) {
    if (e instanceof Unfit) return undefined;
    throw e;
  }
}

/** Whether every string of `x` holding a token is that token alone, and no key holds one. */
export function wholeTokens(x: unknown, tokens: readonly string[] = TOKENS): boolean {
  if (typeof x === 'string') return !x.includes(TOKEN) || tokens.includes(x);
  if (Array.isArray(x)) return x.every((e) => wholeTokens(e, tokens));
  if (typeof x === 'object' && x !== null) {
    for (const k in x)
      if (k.includes(TOKEN) || !wholeTokens((x as Record<string, unknown>)[k], tokens)) return false;
  }
  return true;
}

/** The render's node classes and their templates (null: rendered node by node), for tests. */
export function nodeTemplates(ctx: RenderContext): ReadonlyMap<string, Template | null> {
  return perRender(ctx, nodeClasses);
}
