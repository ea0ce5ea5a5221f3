/**
 * The reconfigure of a kubeadm control plane (docs/day2.md "Rolling reconfigure"): the script a
 * control plane's node agent runs as its `bootstrap` task (the same task protocol; the script is
 * what differs). It writes the node's kubeadm config as the Cluster file says now, uploads the
 * ClusterConfiguration to the kubeadm-config ConfigMap (first control plane only), regenerates
 * the kube-apiserver static pod manifest with `kubeadm init phase control-plane apiserver`, and
 * waits until the kube-apiserver the kubelet restarted runs with the new flags and answers
 * /healthz. Its `ingot-phase:` lines are the node's progress on the timeline.
 */
import type { ClusterSpec } from '../spec/types.ts';
import type { Plan, PlannedNode } from '../plan/types.ts';
import type { PkiMaterial } from '../pki/types.ts';
import { caCertHash } from '../pki/generate.ts';
import { PKI_FILES } from '../pki/types.ts';
import type { RenderContext } from './context.ts';
import { apiServerFlags, kubeadmReconfigureConfig } from './kubeadm.ts';
import { KUBEADM_DIR } from './security.ts';

const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

async function context(spec: ClusterSpec, plan: Plan, pki: PkiMaterial): Promise<RenderContext> {
  return {
    spec,
    plan,
    pki,
    secrets: new Map(),
    caHash: await caCertHash(pki.files[PKI_FILES.ca]),
    minor: Number(spec.spec.version.split('.')[1]),
    bootstrapBy: 'agent',
    // Not rendered into anything a reconfigure runs (`kubeadm init phase control-plane` and
    // `upload-config` read the ClusterConfiguration only).
    joinToken: { token: pki.tokens.bootstrapToken, ttlSeconds: 24 * 3600 },
  };
}

/** The kube-apiserver flags the Cluster file renders to (what a reconfigure compares). */
export async function renderedApiServerFlags(
  spec: ClusterSpec,
  plan: Plan,
  pki: PkiMaterial,
): Promise<Record<string, string>> {
  return apiServerFlags(await context(spec, plan, pki));
}

export interface ReconfigureScriptInput {
  spec: ClusterSpec;
  plan: Plan;
  pki: PkiMaterial;
  node: PlannedNode;
  /** The first control plane uploads the ClusterConfiguration for the others and for joins. */
  first: boolean;
  /** Flags the running kube-apiserver must show afterwards (name → value), and those it must not. */
  expect: Record<string, string>;
  absent: readonly string[];
  /** How long to wait for the new kube-apiserver, seconds. @default 300 */
  waitSeconds?: number;
}

export async function reconfigureScript(i: ReconfigureScriptInput): Promise<string> {
  const ctx = await context(i.spec, i.plan, i.pki);
  const cfg = `${KUBEADM_DIR}/kubeadm-reconfigure.yaml`;
  const want = Object.entries(i.expect).map(([k, v]) => `--${k}=${v}`);
  const port = i.spec.spec.endpoint.port;
  return `#!/bin/sh
# Rendered by Ingot: reconfigure of ${i.node.hostname}'s kube-apiserver (docs/day2.md).
set -eu
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
umask 077
mkdir -p ${KUBEADM_DIR}
cat >${cfg}.new <<'INGOT_EOF'
${kubeadmReconfigureConfig(ctx, i.node).trimEnd()}
INGOT_EOF
mv ${cfg}.new ${cfg}
echo "ingot-phase: config-written"
${i.first ? `kubeadm init phase upload-config kubeadm --config ${cfg}\necho "ingot-phase: kubeadm-config-uploaded"\n` : ''}cp /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/kube-apiserver.yaml.before-reconfigure
kubeadm init phase control-plane apiserver --config ${cfg}
echo "ingot-phase: manifest-written"
# The kube-apiserver of this node: the process in this network namespace (hostNetwork pod).
me=$(readlink /proc/self/ns/net)
running() {
  for d in /proc/[0-9]*; do
    [ "$(cat $d/comm 2>/dev/null)" = kube-apiserver ] || continue
    [ "$(readlink $d/ns/net 2>/dev/null)" = "$me" ] || continue
    tr '\\0' '\\n' <$d/cmdline 2>/dev/null | tail -n +2
    return 0
  done
  return 1
}
ok() {
  args=$(running) || return 1
${want.map((w) => `  printf '%s\\n' "$args" | grep -qxF -- ${q(w)} || return 1`).join('\n')}
${i.absent.map((f) => `  printf '%s\\n' "$args" | grep -q -- ${q(`^--${f}=`)} && return 1`).join('\n')}
  curl -skf --max-time 5 https://${i.node.ip}:${port}/healthz >/dev/null || return 1
}
n=0
until ok; do
  n=$((n + 2))
  if [ $n -gt ${i.waitSeconds ?? 300} ]; then
    echo "the kube-apiserver did not come back with the new flags within ${i.waitSeconds ?? 300} s" >&2
    exit 1
  fi
  sleep 2
done
echo "ingot-phase: apiserver-healthy"
`;
}
