import { toYaml } from './yaml.ts';
import { yamlTemplates } from './yaml-template.ts';
import { formatPlan } from '../plan/format.ts';
import type { Plan } from '../plan/types.ts';
import { caCertHash } from '../pki/generate.ts';
import type { JoinToken } from '../pki/join-token.ts';
import { PKI_FILES, type PkiMaterial } from '../pki/types.ts';
import type { ClusterSpec } from '../spec/types.ts';
import { clusterManifests } from './addons/index.ts';
import { alertGroups, ruleTestsFile, rulesFile } from './alerts.ts';
import { birdConfig, frrConfig, torSessions } from './bgp-tor.ts';
import { userData } from './cloud-init.ts';
import { type Artifact, ArtifactKind, type RenderContext } from './context.ts';
import { BOOTSTRAP_PATH, bootstrapScript } from './bootstrap.ts';
import { networkConfig } from './host.ts';
import { dashboardJson, dashboards } from './dashboards/index.ts';
import { kubeadmConfig } from './kubeadm.ts';
import { adminKubeconfig } from './kubeconfig.ts';
import { haproxyConfig, keepalivedConfig } from './lb.ts';
import { nodeFiles, sharedFiles } from './node-files.ts';
import { nodeUserData } from './node-template.ts';
import { nodeNetworkConfig } from './network-template.ts';
import { KUBEADM_DIR } from './security.ts';

export type { Artifact } from './context.ts';
export { ArtifactKind } from './context.ts';

const SECRET = 0o600;
/** An offline render's token lives as long as kubeadm's default (the operator runs the nodes). */
const OFFLINE_TOKEN_TTL_S = 24 * 3600;
const PUBLIC = 0o644;

async function renderContext(
  spec: ClusterSpec,
  plan: Plan,
  pki: PkiMaterial,
  secrets: ReadonlyMap<string, string>,
  bootstrapBy: RenderContext['bootstrapBy'],
  joinToken: JoinToken = { token: pki.tokens.bootstrapToken, ttlSeconds: OFFLINE_TOKEN_TTL_S },
): Promise<RenderContext> {
  return {
    spec,
    plan,
    pki,
    secrets,
    caHash: await caCertHash(pki.files[PKI_FILES.ca]),
    minor: Number(spec.spec.version.split('.')[1]),
    bootstrapBy,
    joinToken,
    yaml: yamlTemplates(),
  };
}

/** What a region hands one node: its user-data, network-config and bootstrap script. */
export interface NodeRender {
  readonly userData: string;
  readonly networkConfig: string;
  readonly bootstrap: string;
}

/**
 * Per node, the user-data (without the runcmd: the node agent runs the bootstrap when the
 * region asks, in cluster order), network-config and bootstrap script, by hostname. The join
 * token is the create's own (pki/join-token.ts), not the PKI's.
 */
export async function renderNodes(
  spec: ClusterSpec,
  plan: Plan,
  pki: PkiMaterial,
  secrets: ReadonlyMap<string, string>,
  joinToken: JoinToken,
): Promise<Map<string, NodeRender>> {
  const ctx = await renderContext(spec, plan, pki, secrets, 'agent', joinToken);
  const shared = sharedFiles(ctx, clusterManifests(ctx));
  return new Map(
    plan.nodes.map((node) => {
      const files = nodeFiles(ctx, node, shared);
      return [
        node.hostname,
        {
          userData: userData(ctx, node, files),
          networkConfig: nodeNetworkConfig(ctx, node),
          // The script its user-data carries (rendered once: ~7 ms per 1,000 nodes).
          bootstrap: files.find((f) => f.path === BOOTSTRAP_PATH)?.content ?? bootstrapScript(ctx, node),
        },
      ];
    }),
  );
}

/** What a control plane joining a running cluster is given at its join (renderControlPlaneJoin). */
export interface ControlPlaneJoinRender {
  /** Where its kubeadm config goes (the path its bootstrap script joins with). */
  readonly configPath: string;
  /** Its JoinConfiguration: token discovery with the fresh token, the certificate key. */
  readonly config: string;
  /** Its bootstrap script (the create's: packages, API wait, `kubeadm join`, Registered, Ready). */
  readonly bootstrap: string;
  /** `sha256:…` of the CA the render trusts (the PKI's). */
  readonly caHash: string;
}

/**
 * The join of a control plane added to a running cluster (a remediation's spare, deployed with
 * its node files already): its JoinConfiguration rendered again with the fresh join token and
 * the key the control-plane certificates were uploaded with, and its bootstrap script.
 */
export async function renderControlPlaneJoin(
  spec: ClusterSpec,
  plan: Plan,
  pki: PkiMaterial,
  secrets: ReadonlyMap<string, string>,
  hostname: string,
  join: { token: string; certificateKey: string },
): Promise<ControlPlaneJoinRender> {
  const node = plan.nodes.find((n) => n.hostname === hostname);
  if (node?.role !== 'control-plane' || node.init)
    throw new Error(`${hostname} is no joining control plane of the plan`);
  const base = await renderContext(spec, plan, pki, secrets, 'agent', {
    token: join.token,
    ttlSeconds: 3600,
  });
  const ctx = { ...base, certificateKey: join.certificateKey };
  return {
    configPath: `${KUBEADM_DIR}/kubeadm.yaml`,
    config: kubeadmConfig(ctx, node),
    bootstrap: bootstrapScript(ctx, node),
    caHash: ctx.caHash,
  };
}

/** Each planned node's network-config, by hostname: it needs the plan only (no PKI, no secrets). */
export function renderNetworkConfigs(spec: ClusterSpec, plan: Plan): Map<string, string> {
  const ctx = { spec, yaml: yamlTemplates() };
  return new Map(plan.nodes.map((node) => [node.hostname, networkConfig(ctx, node)]));
}

/**
 * Renders everything a planned cluster needs, in memory: per-node cloud-init user-data and
 * network-config, cluster manifests, alert rules with their unit tests, ToR router snippets,
 * load-balancer configs and the admin kubeconfig. Pure given its inputs: the same spec, plan,
 * PKI and secrets give the same bytes. `secrets` must already hold every referenced secret.
 */
export async function renderArtifacts(
  spec: ClusterSpec,
  plan: Plan,
  pki: PkiMaterial,
  secrets: ReadonlyMap<string, string>,
): Promise<Artifact[]> {
  const ctx = await renderContext(spec, plan, pki, secrets, 'cloud-init');
  const out: Artifact[] = [];
  const add = (path: string, content: string, kind: ArtifactKind, mode = PUBLIC) =>
    out.push({ path, content, kind, mode });

  add('plan.txt', formatPlan(plan), ArtifactKind.Text);
  add('plan.json', `${JSON.stringify(plan, null, 2)}\n`, ArtifactKind.Text);

  const manifests = clusterManifests(ctx);
  for (const m of manifests) add(`manifests/${m.name}`, m.content, ArtifactKind.Manifests, SECRET);
  const shared = sharedFiles(ctx, manifests);
  for (const node of plan.nodes) {
    add(
      `nodes/${node.hostname}/user-data`,
      nodeUserData(ctx, node, shared),
      ArtifactKind.CloudConfig,
      SECRET,
    );
    add(`nodes/${node.hostname}/network-config`, nodeNetworkConfig(ctx, node), ArtifactKind.NetworkConfig);
  }
  if (spec.spec.security.firewall.enabled) {
    for (const role of Object.keys(shared.nftables).sort()) {
      if (plan.nodes.some((n) => n.role === role))
        add(`nftables/${role}.nft`, shared.nftables[role], ArtifactKind.Nftables);
    }
  }
  if (spec.spec.observability.hardwareAlerts) {
    add(
      'alerts/ingot-hardware.rules.yaml',
      rulesFile(spec.spec.hardware.onRisk),
      ArtifactKind.PrometheusRules,
    );
    add(
      'alerts/ingot-hardware.test.yaml',
      ruleTestsFile('ingot-hardware.rules.yaml', spec.spec.hardware.onRisk),
      ArtifactKind.PrometheusRuleTests,
    );
    if (!spec.spec.observability.kubePrometheusStack) {
      // Without the in-cluster stack the rules still ship, for an external Prometheus.
      add(
        'alerts/ingot-hardware.prometheusrule.yaml',
        toYaml({
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: { name: 'ingot-hardware', namespace: 'monitoring' },
          spec: { groups: alertGroups(spec.spec.hardware.onRisk) },
        }),
        ArtifactKind.Manifests,
      );
    }
  }
  // Ingot's dashboards as files too, for a Grafana outside the cluster (the region's Prometheus).
  for (const d of dashboards())
    add(`dashboards/${d.uid}.json`, dashboardJson(d), ArtifactKind.GrafanaDashboard);
  for (const t of torSessions(ctx)) {
    const id = `${t.router.address}-as${t.clusterAsn}`;
    const mode = t.router.password ? SECRET : PUBLIC;
    add(`tor/${id}.frr.conf`, frrConfig(ctx, t), ArtifactKind.Frr, mode);
    add(`tor/${id}.bird.conf`, birdConfig(ctx, t), ArtifactKind.Bird, mode);
  }
  const lb = spec.spec.endpoint.externalLoadBalancer;
  if (spec.spec.endpoint.mode === 'external' && lb.render) {
    add('lb/haproxy.cfg', haproxyConfig(ctx), ArtifactKind.Haproxy);
    for (const [i, h] of lb.hosts.entries())
      add(`lb/${h}.keepalived.conf`, keepalivedConfig(ctx, h, i), ArtifactKind.Keepalived);
  }
  add('kubeconfig/admin.conf', adminKubeconfig(ctx), ArtifactKind.Kubeconfig, SECRET);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}
