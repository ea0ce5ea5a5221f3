import type { Plan, PlannedNode } from '../plan/types.ts';
import type { JoinToken } from '../pki/join-token.ts';
import type { PkiMaterial } from '../pki/types.ts';
import type { ClusterSpec } from '../spec/types.ts';
import { isTemplateWord, type YamlTemplates } from './yaml-template.ts';

/** What kind of file an artifact is: which real validator checks it (test/cluster-validators). */
export const ArtifactKind = {
  CloudConfig: 'cloud-config',
  NetworkConfig: 'network-config',
  Nftables: 'nftables',
  Manifests: 'kubernetes-manifests',
  PrometheusRules: 'prometheus-rules',
  PrometheusRuleTests: 'prometheus-rule-tests',
  GrafanaDashboard: 'grafana-dashboard',
  Frr: 'frr',
  Bird: 'bird',
  Haproxy: 'haproxy',
  Keepalived: 'keepalived',
  Kubeconfig: 'kubeconfig',
  Text: 'text',
} as const;
export type ArtifactKind = (typeof ArtifactKind)[keyof typeof ArtifactKind];

export interface Artifact {
  /** Relative to the output directory, `/`-separated. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  readonly kind: ArtifactKind;
}

/** A file placed on a node by cloud-init. */
export interface NodeFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  /**
   * `content` as the strings it was made of, in order: most shared by the render's nodes (the
   * same objects), a few the node's own (the bootstrap script's lines: content-pieces.ts).
   */
  readonly pieces?: readonly string[];
}

export interface RenderContext {
  readonly spec: ClusterSpec;
  readonly plan: Plan;
  readonly pki: PkiMaterial;
  readonly secrets: ReadonlyMap<string, string>;
  /** `sha256:…` of the cluster CA's public key (kubeadm discovery). */
  readonly caHash: string;
  readonly minor: number;
  /**
   * Who runs the bootstrap script: cloud-init's runcmd at first boot (offline renders), or the
   * region, as the node agent's `bootstrap` task in cluster order (`ingot cluster create`).
   * @default 'cloud-init'
   */
  readonly bootstrapBy?: 'cloud-init' | 'agent';
  /**
   * The kubeadm join token: a region's fresh per-create token (pki/join-token.ts); offline
   * renders use the PKI's `tokens.bootstrapToken` with kubeadm's default 24 h.
   */
  readonly joinToken: JoinToken;
  /**
   * A control plane's join downloads the control-plane certificates uploaded with this key
   * (`kubeadm init phase upload-certs`): a remediation's spare joining after the create.
   */
  readonly certificateKey?: string;
  /** One render's YAML templates (yaml-template.ts); without them nothing is shared. */
  readonly yaml?: YamlTemplates;
}

const perRenders = new WeakMap<RenderContext, Map<unknown, unknown>>();

/** `f(ctx)`, computed once per render context: pieces every node's files share. */
export function perRender<T>(ctx: RenderContext, f: (ctx: RenderContext) => T): T {
  let m = perRenders.get(ctx);
  if (!m) {
    m = new Map();
    perRenders.set(ctx, m);
  }
  if (!m.has(f)) m.set(f, f(ctx));
  return m.get(f) as T;
}

export function secret(ctx: RenderContext, name: string): string {
  const v = ctx.secrets.get(name);
  if (v === undefined) throw new Error(`secret ${name} was not resolved before rendering`);
  return v;
}

export function controlPlanes(ctx: RenderContext): PlannedNode[] {
  return ctx.plan.nodes.filter((n) => n.role === 'control-plane');
}

export function etcdNodes(ctx: RenderContext): PlannedNode[] {
  const role = ctx.spec.spec.etcd.topology === 'external' ? 'etcd' : 'control-plane';
  return ctx.plan.nodes.filter((n) => n.role === role);
}

/** The interface carrying the node address: the node VLAN on the bond, the bond, or the boot NIC. */
export function nodeInterface(ctx: Pick<RenderContext, 'spec'>, node: PlannedNode): string {
  const n = ctx.spec.spec.networking;
  const base = n.bond ? n.bond.name : (node.nics.find((x) => x.boot)?.name ?? 'eth0');
  const vlan = n.vlans.find((v) => v.node);
  return vlan ? `${base}.${vlan.id}` : base;
}

/**
 * The strings that differ between nodes of one shape in what Ingot renders for them: their YAML
 * is shared through templates (yaml-template.ts). Rack, zone and pool are left out on purpose:
 * short names like `r1` also occur inside certificates' base64, which would then differ per rack;
 * the kubelet's `--node-labels` value, which holds them, is in (when it is a template word), so
 * the nodes of one shape share the kubeadm config's template across racks and zones.
 */
export function nodeStrings(node: PlannedNode): readonly string[] {
  let strings = nodeStringsOf.get(node);
  if (!strings) {
    const labels = nodeLabelsArg(node);
    strings = [node.hostname, node.address, node.ip, ...node.nics.map((n) => n.mac)];
    if (isTemplateWord(labels)) strings.push(labels);
    nodeStringsOf.set(node, strings);
  }
  return strings;
}

/** Each planned node's strings, made once (the same array: yaml-template.ts finds it by identity). */
const nodeStringsOf = new WeakMap<PlannedNode, string[]>();

/** Labels every node carries: where it is and which pool it belongs to. */
export function topologyLabels(node: PlannedNode): Record<string, string> {
  return {
    'topology.kubernetes.io/zone': node.zone,
    'ingot.dev/rack': node.rack,
    'ingot.dev/pool': node.pool,
    ...node.labels,
  };
}

/** The kubelet's `--node-labels` value: the topology labels, sorted, `key=value` by commas. */
export function nodeLabelsArg(node: PlannedNode): string {
  let arg = nodeLabelsArgOf.get(node);
  if (arg === undefined) {
    arg = labelsArg(node);
    nodeLabelsArgOf.set(node, arg);
  }
  return arg;
}

/** `nodeLabelsArg`, made again: for a caller that reads it once a node (node-template.ts). */
export function labelsArg(node: PlannedNode): string {
  // Without labels of its own (most nodes): the three topology labels in their sorted order.
  if (!hasOwnKeys(node.labels))
    return `ingot.dev/pool=${node.pool},ingot.dev/rack=${node.rack},topology.kubernetes.io/zone=${node.zone}`;
  const labels = topologyLabels(node);
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Whether `o` has a key of its own (no key array made: this runs for each node). */
function hasOwnKeys(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

/** Each planned node's `--node-labels` value, made once: its strings and its kubelet flags both hold it. */
const nodeLabelsArgOf = new WeakMap<PlannedNode, string>();

/**
 * Gives a node its `--node-labels` value instead of making it from its labels: a template node's
 * (node-template.ts), whose value is a token and whose labels it must not read.
 */
export function presetNodeLabelsArg(node: PlannedNode, arg: string): void {
  nodeLabelsArgOf.set(node, arg);
}
