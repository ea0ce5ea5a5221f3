import type { PlannedNode } from '../plan/types.ts';
import { perRender, type RenderContext } from './context.ts';
import { networkConfig, networkDoc } from './host.ts';
import { guarded, Unfit, wholeTokens } from './node-template.ts';
import { emitYaml } from './yaml-emit.ts';
import type { YamlTemplates } from './yaml-template.ts';
import { filled, scalarYaml, type Template, TOKEN, template } from './yaml-tokens.ts';

/** Most NICs a templated node has: its tokens are one digit each, so they sort as their MACs. */
const MAX_NICS = 8;

/**
 * A node's network-config from one template per render and network class, filled with the YAML
 * of its address and MACs (node-template.ts does so for a worker's user-data). Each of 1,000
 * nodes' documents was built and matched against a kept shape (~2.5 ms a render).
 *
 * The class is all the network-config reads of a node but those strings: its gateway, DNS
 * servers, and each NIC's boot flag, name and place in the MAC order (the NICs are sorted by
 * MAC). The template is the document of a *template node* holding those and a token for each
 * string — the MACs' tokens in the order of the node's MACs, so sorting them gives its order —
 * written directly once; any other read of the node or a NIC throws and the class is rendered
 * node by node, as is one whose document holds a token anywhere but as a whole string (a
 * single-line scalar is written the same wherever it sits: `toYamlOf`'s argument), or whose
 * first node's network-config is not its template filled. Nodes with two equal MACs or more than
 * `MAX_NICS` NICs are rendered node by node.
 */
export function nodeNetworkConfig(ctx: RenderContext, node: PlannedNode): string {
  const cache = ctx.yaml;
  const ranks = cache && node.nics.length <= MAX_NICS ? macRanks(node) : undefined;
  const values = cache && ranks ? yamlValues(node, ranks, cache) : undefined;
  if (!cache || !ranks || !values) return networkConfig(ctx, node);
  const classes = perRender(ctx, networkClasses);
  const key = classKey(node, ranks);
  const t = classes.get(key);
  if (t) return filled(t, values) as string;
  const out = networkConfig(ctx, node);
  if (t === undefined) {
    const made = classTemplate(ctx, node, ranks, cache);
    classes.set(key, made !== undefined && filled(made, values) === out ? made : null);
  }
  return out;
}

/** Templates by network class, one map per render; null for a class rendered node by node. */
const networkClasses = (): Map<string, Template | null> => new Map();

/** Each NIC's place in the MAC order; undefined when two MACs are equal. */
function macRanks(node: PlannedNode): number[] | undefined {
  const nics = node.nics;
  const ranks: number[] = [];
  for (let i = 0; i < nics.length; i++) {
    let r = 0;
    for (let j = 0; j < nics.length; j++) {
      if (i === j) continue;
      if (nics[j].mac === nics[i].mac) return undefined;
      if (nics[j].mac < nics[i].mac) r++;
    }
    ranks.push(r);
  }
  return ranks;
}

/** The template node's fields but its tokens. */
function classKey(node: PlannedNode, ranks: readonly number[]): string {
  let key = JSON.stringify([node.gateway, node.dns]);
  for (let i = 0; i < node.nics.length; i++) {
    const nic = node.nics[i];
    key += `\n${ranks[i]}${nic.boot ? 'b' : '-'}${nic.name === undefined ? '' : JSON.stringify(nic.name)}`;
  }
  return key;
}

/** The YAML of the node's address and MACs (by rank), in token order; undefined if one is not one line. */
function yamlValues(node: PlannedNode, ranks: readonly number[], cache: YamlTemplates): string[] | undefined {
  const values: string[] = [];
  const address = scalarLine(node.address, cache);
  if (address === undefined) return undefined;
  values[0] = address;
  for (let i = 0; i < ranks.length; i++) {
    const mac = scalarLine(node.nics[i].mac, cache);
    if (mac === undefined) return undefined;
    values[1 + ranks[i]] = mac;
  }
  return values;
}

/** A single-line string's YAML without its newline; undefined when it is not one line or holds a token. */
function scalarLine(s: string, cache: YamlTemplates): string | undefined {
  if (s.includes(TOKEN)) return undefined;
  const y = scalarYaml(s, cache);
  return y.indexOf('\n') === y.length - 1 ? y.slice(0, -1) : undefined;
}

const token = (i: number) => `${TOKEN}${i}Q`;

function classTemplate(
  ctx: RenderContext,
  node: PlannedNode,
  ranks: readonly number[],
  cache: YamlTemplates,
): Template | undefined {
  const nics = node.nics.map((nic, i) =>
    guarded({ mac: token(1 + ranks[i]), boot: nic.boot, name: nic.name }),
  );
  const t = guarded<PlannedNode>({ address: token(0), gateway: node.gateway, dns: node.dns, nics });
  try {
    const doc = networkDoc(ctx, t);
    if (!wholeTokens(doc, [token(0), ...nics.map((_, i) => token(1 + i))])) return undefined;
    const yaml = emitYaml(doc, cache);
    return yaml === undefined ? undefined : template(yaml);
  } catch (e) {
    if (e instanceof Unfit) return undefined;
    throw e;
  }
}

/** The render's network classes and their templates (null: rendered node by node), for tests. */
export function networkTemplates(ctx: RenderContext): ReadonlyMap<string, Template | null> {
  return perRender(ctx, networkClasses);
}
