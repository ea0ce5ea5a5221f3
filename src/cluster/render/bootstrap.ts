import { BOOTSTRAP_PHASE_PREFIX } from '../../core/node-agent-protocol.ts';
import type { PlannedNode } from '../plan/types.ts';
import { type NodeFile, perRender, type RenderContext } from './context.ts';
import { CRI_SOCKET, kubeadmInitFlags } from './kubeadm.ts';
import { packageSteps } from './packages.ts';
import { bootstrapServer, isServer, rancherVersion } from './rancher.ts';
import { KUBEADM_DIR } from './security.ts';

export const BOOTSTRAP_PATH = '/usr/local/sbin/ingot-bootstrap';
export const KUBEADM_MANIFESTS = `${KUBEADM_DIR}/manifests`;

/**
 * The script's output, to its log as well as to whoever runs it (the node agent reads it from a
 * file). The script's end waits (10 s at most) for tee to pass on what it was given: the agent
 * reads the output once the script exits, and its last phase lines must be there.
 */
export const BOOTSTRAP_OUTPUT = (log = '/var/log/ingot-bootstrap.log'): string[] => [
  `exec > >(tee -a ${log}) 2>&1`,
  'ingot_tee=$!',
  "trap 'exec >&- 2>&-; for _ in $(seq 1 100); do kill -0 $ingot_tee 2>/dev/null || break; sleep 0.1; done' EXIT",
];

const PREAMBLE = [
  '#!/bin/bash',
  '# Rendered by Ingot: bootstraps this node. Safe to read; re-running after success is a no-op.',
  'set -euo pipefail',
  ...BOOTSTRAP_OUTPUT(),
  'if [ -e /var/lib/ingot/bootstrapped ]; then echo "already bootstrapped"; exit 0; fi',
  'swapoff -a && sed -ri "/\\sswap\\s/s/^#?/#/" /etc/fstab',
  'modprobe overlay && modprobe br_netfilter',
  'sysctl --system >/dev/null',
];

/**
 * A phase line (`ingot-phase: <name>`): the node agent reports each as the task's progress, so
 * a stuck bootstrap says which node stopped where (BOOTSTRAP_PHASE_PREFIX in the agent protocol).
 */
export const phase = (name: string): string => `echo "${BOOTSTRAP_PHASE_PREFIX}${name}"`;

const DONE = [
  'mkdir -p /var/lib/ingot && touch /var/lib/ingot/bootstrapped',
  phase('bootstrapped'),
  'echo "ingot bootstrap finished"',
  '',
];

function firewall(ctx: RenderContext): string[] {
  return ctx.spec.spec.security.firewall.enabled
    ? ['nft -f /etc/nftables.conf', 'systemctl enable nftables']
    : [];
}

/** Waits for the API endpoint to accept TLS connections (any HTTP answer will do). */
function waitForApi(ctx: RenderContext): string[] {
  const e = ctx.spec.spec.endpoint;
  return [
    `until curl -sk --max-time 5 -o /dev/null https://${e.address}:${e.port}/livez; do echo "waiting for the API at ${e.address}:${e.port}"; sleep 10; done`,
  ];
}

function applyManifests(dir: string, kubeconfig: string): string[] {
  // Custom resources wait for their CRDs, which the charts install: retry until all apply.
  return [
    `export KUBECONFIG=${kubeconfig}`,
    `for i in $(seq 1 90); do kubectl apply --server-side --force-conflicts -f ${dir}/ && break; echo "retrying manifests ($i)"; sleep 20; done`,
  ];
}

/**
 * Waits, with the node's own kubelet credentials (the node authorizer lets a kubelet read its
 * Node), until the kubelet registered the node, then until it is Ready: the phases that say a
 * node is in the cluster, not only that kubeadm returned.
 */
function waitNode(node: PlannedNode, afterRegistered: string[] = []): string[] {
  const kubectl = `kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node ${node.hostname}`;
  const wait = (test: string, seconds: number, what: string) =>
    `for i in $(seq 1 ${seconds / 2}); do ${test} && break; [ "$i" = ${seconds / 2} ] && { echo "${what} within ${seconds} s" >&2; exit 1; }; sleep 2; done`;
  return [
    wait(`${kubectl} >/dev/null 2>&1`, 240, `the kubelet did not register node ${node.hostname}`),
    phase('kubelet-registered'),
    ...afterRegistered,
    wait(
      `[ "$(${kubectl} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]`,
      600,
      `node ${node.hostname} did not become Ready`,
    ),
    phase('node-ready'),
  ];
}

/** The kubelet's own last words, on stderr, so a failed bootstrap's reason carries them. */
const KUBELET_JOURNAL = 'journalctl -u kubelet -n 25 --no-pager -o cat >&2 || true';

/**
 * `kubeadm join`. A worker's join that stops before kubeadm started the kubelet (no bootstrap
 * kubeconfig yet: preflight, discovery, reading the cluster's configuration) wrote nothing, so it
 * is tried again, 3 tries at most and none started 5 min after the first: an API that answered
 * `livez` can still fail a request on a loaded control plane. Nothing of kubeadm's kubelet-start
 * phase may be on disk for that (bootstrap kubeconfig, CA, kubelet kubeconfig: a second join's
 * preflight refuses them). The failure's reason is kubeadm's own last words, not a journal of a
 * kubelet that never ran.
 *
 * After the TLS bootstrap kubeadm 1.20 removes the bootstrap kubeconfig and waits at most 2 min
 * for the kubelet's Node to annotate it with the CRI socket; on a loaded control plane that wait
 * runs out (CI, 2026-12-03 and 2026-12-04: a worker's join failed ~2 min after its API check,
 * the kubelet already bootstrapped). That is the case below too: the kubelet's kubeconfig is there.
 *
 * kubeadm 1.20 gives the kubelet's TLS bootstrap 40 s in its kubelet-start phase; on a loaded
 * host the kubelet can take longer (CI, 2026-12-03: a worker's join failed there while its
 * kubelet went on bootstrapping). That phase is a worker's last, so when the kubelet still gets
 * its client certificate, the worker is in the cluster: the script finishes kubeadm's two
 * remaining steps itself (the CRI-socket annotation `kubeadm upgrade node` reads; removing the
 * bootstrap kubeconfig), and the Registered/Ready waits that follow decide. A control plane's
 * join goes on past that phase (etcd member, control-plane label) and writes its certificates
 * before it, so it fails as kubeadm failed. Either way a failure after the kubelet started ends
 * with the kubelet's journal.
 */
export const JOIN_TRIES = 3;
export const JOIN_RETRY_WINDOW_S = 300;
export const JOIN_RETRY_PAUSE_S = 20;
/** How long a worker's join waits for the kubelet's TLS bootstrap after kubeadm stopped waiting. */
export const JOIN_TLS_WAIT_S = 300;

export function kubeadmJoin(node: PlannedNode, cfg: string, dir = '/etc/kubernetes'): string[] {
  if (node.role !== 'worker') return [`kubeadm join --config ${cfg} || { ${KUBELET_JOURNAL}; exit 1; }`];
  const key = `${cfg}\n${dir}`;
  let lines = workerJoins.get(key);
  if (!lines) {
    lines = joinedRuns(workerJoin(cfg, dir));
    workerJoins.set(key, lines);
  }
  return lines.map((l) => (typeof l === 'string' ? l : l(node.hostname)));
}

/**
 * A worker's join lines by config and directory: only the CRI-socket annotation names the node.
 * The lines around it are kept joined (by newlines, as the script joins them), so 1,000 workers'
 * scripts do not join the same ~40 lines again each.
 */
const workerJoins = new Map<string, (string | ((hostname: string) => string))[]>();

function joinedRuns(
  lines: (string | ((hostname: string) => string))[],
): (string | ((hostname: string) => string))[] {
  const out: (string | ((hostname: string) => string))[] = [];
  let run: string[] = [];
  for (const l of lines) {
    if (typeof l === 'string') {
      run.push(l);
      continue;
    }
    if (run.length > 0) out.push(run.join('\n'));
    run = [];
    out.push(l);
  }
  if (run.length > 0) out.push(run.join('\n'));
  return out;
}

function workerJoin(cfg: string, dir: string): (string | ((hostname: string) => string))[] {
  const join = `kubeadm join --config ${cfg}`;
  const kubelet = `${dir}/kubelet.conf`;
  const bootstrap = `${dir}/bootstrap-kubelet.conf`;
  // kubeadm's bootstrap kubeconfig, kept aside (mode 0600, next to it) while the join runs and
  // removed whatever the end: the bootstrap token in it is a secret.
  const kept = `${bootstrap}.ingot-kept`;
  // The kubelet's last words, then the certificate signing requests as the bootstrap token sees
  // them (one line), then why: a failure's reason is the output's last lines.
  const csrs = `{ echo "certificate signing requests: $(kubectl --kubeconfig ${kept} get csr --no-headers 2>&1 | tail -n 4 | tr -s ' ' | tr '\\n' ';' | cut -c1-400)" >&2; } || true`;
  const fail = (why: string) =>
    `{ ${KUBELET_JOURNAL}; [ -s ${kept} ] && ${csrs}; echo "${why}" >&2; rm -f ${kept}; [ -z "$ingot_restored" ] || rm -f ${bootstrap}; exit 1; }`;
  return [
    'ingot_joined=',
    'ingot_restored=',
    'ingot_join_start=$SECONDS',
    `rm -f ${kept}`,
    `( umask 077; while kill -0 $$ 2>/dev/null; do grep -qs 'token:' ${bootstrap} && cp ${bootstrap} ${kept}.new && mv -f ${kept}.new ${kept} || true; sleep 1; done ) &`,
    'ingot_keeper=$!',
    `for ingot_try in $(seq 1 ${JOIN_TRIES}); do`,
    `  if ${join}; then ingot_joined=yes; break; fi`,
    // Anything kubeadm's kubelet-start phase writes (its bootstrap kubeconfig, the CA, or the
    // kubelet's own kubeconfig once the TLS bootstrap is done and the bootstrap one removed):
    // past the point a second join could start from (its preflight refuses them).
    `  { [ -e ${bootstrap} ] || [ -e ${kubelet} ] || [ -e ${dir}/pki/ca.crt ]; } && break`,
    `  echo "kubeadm join stopped before it started the kubelet (try $ingot_try of ${JOIN_TRIES})" >&2`,
    `  [ "$ingot_try" -lt ${JOIN_TRIES} ] && [ $((SECONDS - ingot_join_start)) -lt ${JOIN_RETRY_WINDOW_S} ] || break`,
    `  echo "nothing was written: trying kubeadm join again in ${JOIN_RETRY_PAUSE_S} s"`,
    `  sleep ${JOIN_RETRY_PAUSE_S}`,
    'done',
    'kill $ingot_keeper 2>/dev/null || true',
    'wait $ingot_keeper 2>/dev/null || true',
    'if [ -z "$ingot_joined" ]; then',
    // Neither kubeconfig nor the CA: kubeadm never started the kubelet; its error is above. The
    // CA alone is kubelet-start's too: kubeadm removes the bootstrap kubeconfig when its 40 s
    // wait runs out (a deferred remove), while the kubelet it started goes on with the copy it
    // read (CI, 2026-12-04: a spare's join failed so, under load).
    `  { [ -e ${bootstrap} ] || [ -s ${kubelet} ] || [ -e ${dir}/pki/ca.crt ]; } || { rm -f ${kept}; echo "kubeadm join failed $ingot_try time(s) before it started the kubelet: kubeadm's error is above" >&2; exit 1; }`,
    // kubeadm 1.20 removes the bootstrap kubeconfig after the TLS bootstrap, then waits at most
    // 2 min for the Node to annotate it: on a loaded control plane that wait runs out.
    `  echo "kubeadm join stopped waiting; waiting up to ${JOIN_TLS_WAIT_S} s more for the kubelet to finish its TLS bootstrap and register"`,
    `  for i in $(seq 1 ${(JOIN_TLS_WAIT_S * 2) / 5 / 5}); do [ -s ${kubelet} ] && break; sleep 5; done`,
    // A kubelet that started (or restarted) after kubeadm removed the bootstrap kubeconfig has
    // neither kubeconfig and never bootstraps: the kept one is put back and the kubelet
    // restarted, once, for the rest of the wait (and taken away again if that fails too).
    `  if [ ! -s ${kubelet} ] && [ ! -e ${bootstrap} ] && [ -s ${kept} ]; then`,
    `    echo "no client certificate yet: kubeadm's bootstrap kubeconfig put back and the kubelet restarted (one without either kubeconfig never bootstraps)"`,
    `    cp ${kept} ${bootstrap} && ingot_restored=yes && systemctl restart kubelet || true`,
    '  fi',
    `  for i in $(seq 1 ${(JOIN_TLS_WAIT_S * 3) / 5 / 5}); do [ -s ${kubelet} ] && break; sleep 5; done`,
    `  [ -s ${kubelet} ] || ${fail(`the kubelet did not finish its TLS bootstrap within ${JOIN_TLS_WAIT_S} s after kubeadm join stopped`)}`,
    (hostname) =>
      `  for i in $(seq 1 60); do kubectl --kubeconfig ${kubelet} annotate --overwrite node ${hostname} kubeadm.alpha.kubernetes.io/cri-socket=${CRI_SOCKET} && break; [ "$i" = 60 ] && ${fail(`node ${hostname} could not be annotated with its CRI socket within 300 s`)}; sleep 5; done`,
    `  rm -f ${bootstrap}`,
    '  echo "the kubelet finished its TLS bootstrap after kubeadm stopped waiting: joined"',
    'fi',
    `rm -f ${kept} ${kept}.new`,
  ];
}

/** The start of every kubeadm node's script: firewall, containerd, packages (one per render). */
function kubeadmPackages(ctx: RenderContext): string[] {
  const v = ctx.spec.spec.version;
  return [
    ...firewall(ctx),
    'systemctl restart containerd',
    ...packageSteps(ctx),
    `test "$(kubeadm version -o short)" = "${v}" || { echo "this image needs kubeadm ${v}; install kubeadm, kubelet and kubectl ${v}" >&2; exit 1; }`,
    'systemctl enable kubelet',
    phase('packages-installed'),
  ];
}

/** The preamble and `kubeadmPackages` with the newline after them, one text per render: the same on every kubeadm node. */
function kubeadmHead(ctx: RenderContext): string {
  return `${[...PREAMBLE, ...kubeadmPackages(ctx)].join('\n')}\n`;
}

/** A kubeadm node's lines after `kubeadmHead`. */
function kubeadmScript(ctx: RenderContext, node: PlannedNode): string[] {
  if (node.role === 'etcd') {
    const cfg = `${KUBEADM_DIR}/kubeadm-etcd.yaml`;
    return [
      'systemctl daemon-reload && systemctl restart kubelet',
      ...['etcd-server', 'etcd-peer', 'etcd-healthcheck-client'].map(
        (c) => `kubeadm init phase certs ${c} --config ${cfg}`,
      ),
      `kubeadm init phase etcd local --config ${cfg}`,
    ];
  }
  const cfg = `${KUBEADM_DIR}/kubeadm.yaml`;
  if (node.init) {
    const vip = ctx.spec.spec.endpoint.mode === 'kube-vip' && ctx.minor >= 29;
    return [
      ['kubeadm init', `--config ${cfg}`, ...kubeadmInitFlags(ctx)].join(' '),
      phase('kubeadm-init-done'),
      ...(vip
        ? [
            "sed -i 's#/etc/kubernetes/super-admin.conf#/etc/kubernetes/admin.conf#' /etc/kubernetes/manifests/kube-vip.yaml",
          ]
        : []),
      // The init node is Ready once the CNI from the manifests runs on it.
      ...waitNode(node, [
        ...applyManifests(KUBEADM_MANIFESTS, '/etc/kubernetes/admin.conf'),
        phase('manifests-applied'),
      ]),
    ];
  }
  return [
    ...waitForApi(ctx),
    phase('api-reachable'),
    ...kubeadmJoin(node, cfg),
    phase('kubeadm-join-done'),
    ...waitNode(node),
  ];
}

function rancherScript(ctx: RenderContext, node: PlannedNode): string[] {
  const d = ctx.spec.spec.distribution;
  const server = isServer(node);
  const env =
    d === 'rke2'
      ? `INSTALL_RKE2_VERSION=${rancherVersion(ctx)} INSTALL_RKE2_TYPE=${server ? 'server' : 'agent'}`
      : `INSTALL_K3S_VERSION=${rancherVersion(ctx)} INSTALL_K3S_SKIP_START=true INSTALL_K3S_EXEC=${server ? 'server' : 'agent'}`;
  const url = d === 'rke2' ? 'https://get.rke2.io' : 'https://get.k3s.io';
  const unit = d === 'rke2' ? `rke2-${server ? 'server' : 'agent'}` : server ? 'k3s' : 'k3s-agent';
  const lines = [...firewall(ctx)];
  // The CIS profile needs an etcd system user on servers (RKE2 hardening guide).
  if (d === 'rke2' && server && ctx.spec.spec.security.cis)
    lines.push('id etcd >/dev/null 2>&1 || useradd -r -c "etcd user" -s /sbin/nologin -M etcd -U');
  lines.push(`command -v ${d} >/dev/null || curl -sfL ${url} | ${env} sh -`);
  if (node.hostname !== bootstrapServer(ctx).hostname) lines.push(...waitForApiOrSupervisor(ctx, node));
  lines.push(`systemctl enable --now ${unit}.service`, phase(`${unit}-started`));
  return lines;
}

function waitForApiOrSupervisor(ctx: RenderContext, node: PlannedNode): string[] {
  if (!isServer(node)) return waitForApi(ctx);
  const first = bootstrapServer(ctx);
  const port = ctx.spec.spec.distribution === 'rke2' ? 9345 : ctx.spec.spec.endpoint.port;
  return [
    `until curl -sk --max-time 5 -o /dev/null https://${first.ip}:${port}/ping; do echo "waiting for ${first.hostname}"; sleep 10; done`,
  ];
}

/** The node's bootstrap script, run once by cloud-init's runcmd. */
export function bootstrapScript(ctx: RenderContext, node: PlannedNode): string {
  return bootstrapFile(ctx, node).content;
}

/**
 * The node's bootstrap script as a file. A kubeadm node's script is the render's shared start
 * (joined once per render) and its lines, most of them shared too (a worker's join runs): its
 * `pieces`, so that 1,000 scripts are neither joined (concatenated, not copied) nor read whole to
 * be checked against their shape (content-pieces.ts).
 */
export function bootstrapFile(ctx: RenderContext, node: PlannedNode): NodeFile {
  if (ctx.spec.spec.distribution !== 'kubeadm')
    return {
      path: BOOTSTRAP_PATH,
      content: [...PREAMBLE, ...rancherScript(ctx, node), ...DONE].join('\n'),
      mode: 0o700,
    };
  const head = perRender(ctx, kubeadmHead);
  const pieces = [head];
  let content = head;
  for (const line of [...kubeadmScript(ctx, node), ...DONE]) {
    if (pieces.length > 1) {
      pieces.push(NL);
      content += NL;
    }
    pieces.push(line);
    content += line;
  }
  return { path: BOOTSTRAP_PATH, content, mode: 0o700, pieces };
}

const NL = '\n';
