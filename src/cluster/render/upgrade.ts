/**
 * The kubeadm upgrade of one node (docs/day2.md "Upgrade"): the script its node agent runs as
 * its `bootstrap` task during an `upgrade` operation. The first control plane runs
 * `kubeadm upgrade apply <target> --yes` (the new control-plane manifests, the cluster's
 * kubeadm and kubelet configuration, its certificates renewed), the other control planes and
 * the workers `kubeadm upgrade node`; each then restarts its kubelet and a control plane waits
 * until its kube-apiserver answers /healthz. A bundle cluster's node first installs the target's
 * bundle from its rack (`ingot-install-bundle`, render/packages.ts). The node's kubeadm must then
 * be the target's: the script refuses otherwise, naming both versions, before it changes
 * anything. Its `ingot-phase:` lines are the node's progress.
 *
 * kubeadm 1.20's `upgrade apply`, once the control plane is upgraded, re-applies the CoreDNS
 * addon and waits for its Deployment to have a ready replica — with an exponential back-off of
 * 10 tries from 5 s, about 43 minutes, before it fails (postupgrade.go,
 * `removeOldDNSDeploymentIfAnotherDNSIsUsed`; the kube-dns code path, gone in 1.21). A cluster
 * whose CoreDNS cannot run (a bundle without its image) would sit there silently: the first
 * control plane's script checks it first and refuses, naming the Deployment.
 */
import { parseKubeVersion } from '../../core/bundle.ts';
import { waitApiserverHealthy } from './cert-rotate.ts';
import { BUNDLE_INSTALLER_PATH } from './packages.ts';

export interface UpgradeScriptInput {
  hostname: string;
  /** `first`: the init control plane (upgrade apply); `control-plane` and `worker`: upgrade node. */
  part: 'first' | 'control-plane' | 'worker';
  /** The target version, `v1.21.3`. */
  target: string;
  /** A control plane's address and the API server's port (its /healthz is waited for). */
  ip: string;
  port: number;
  /** How long to wait for the kube-apiserver, seconds. @default 300 */
  waitSeconds?: number;
  /**
   * kubeadm preflight checks `upgrade apply` ignores: a cluster whose packages come from a
   * bundle has its images imported, not pulled (the bundle built here has no CoreDNS), as its
   * init and joins do (kubeadm.ts).
   */
  ignorePreflightErrors?: readonly string[];
  /**
   * A bundle cluster: the target's bundle is installed from the rack first, by the node's
   * `ingot-install-bundle` (render/packages.ts) given this name with the node's arch appended
   * (`kubernetes-v1.21.3-` → `kubernetes-v1.21.3-amd64`).
   */
  bundlePrefix?: string;
}

const ADMIN = '/etc/kubernetes/admin.conf';

/**
 * The first control plane's check that kubeadm 1.20's post-upgrade CoreDNS wait can end: when
 * kubeadm's CoreDNS addon is deployed (its ConfigMap is there: kubeadm skips the addon
 * otherwise), its Deployment must have a ready replica.
 */
export function coreDnsReadyCheck(): string {
  const k = `kubectl --kubeconfig ${ADMIN} -n kube-system`;
  return `if ${k} get configmap coredns >/dev/null 2>&1; then
  ready=$(${k} get deployment coredns -o 'jsonpath={.status.readyReplicas}' 2>/dev/null || true)
  if [ "\${ready:-0}" -lt 1 ]; then
    echo "kube-system/coredns has no ready replica: kubeadm 1.20's upgrade apply waits about 43 minutes for one after upgrading the control plane, then fails; make CoreDNS run first (its image on the nodes), then upgrade" >&2
    exit 1
  fi
fi
echo "ingot-phase: coredns-ready"`;
}

const VERSION = /^v\d+\.\d+\.\d+$/;

export function upgradeScript(i: UpgradeScriptInput): string {
  if (!VERSION.test(i.target)) throw new Error(`upgrade target ${i.target} is not a version such as v1.21.3`);
  const wait = i.waitSeconds ?? 300;
  const upgrade =
    i.part === 'first'
      ? `kubeadm upgrade apply ${i.target} --yes --certificate-renewal=true${
          i.ignorePreflightErrors?.length
            ? ` --ignore-preflight-errors=${i.ignorePreflightErrors.join(',')}`
            : ''
        }`
      : 'kubeadm upgrade node';
  const cp = i.part !== 'worker';
  const v = parseKubeVersion(i.target);
  const dnsWait = i.part === 'first' && v !== null && v.major === 1 && v.minor <= 20;
  if (i.bundlePrefix !== undefined && !/^[a-z0-9._-]+$/.test(i.bundlePrefix))
    throw new Error(`bundle name ${i.bundlePrefix} is not a bundle name`);
  return `#!/bin/sh
# Rendered by Ingot: kubeadm upgrade of ${i.hostname} to ${i.target} (docs/day2.md).
set -eu
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
${
  i.bundlePrefix !== undefined
    ? `${BUNDLE_INSTALLER_PATH} "${i.bundlePrefix}$(dpkg --print-architecture)"
echo "ingot-phase: bundle-installed"
`
    : ''
}have=$(kubeadm version -o short)
if [ "$have" != "${i.target}" ]; then
  echo "kubeadm on ${i.hostname} is $have, not ${i.target}: put the ${i.target} bundle's kubeadm and kubelet on the node first" >&2
  exit 1
fi
${
  dnsWait
    ? `${coreDnsReadyCheck()}
`
    : ''
}${upgrade}
echo "ingot-phase: kubeadm-upgraded"
systemctl restart kubelet
echo "ingot-phase: kubelet-restarted"
${cp ? waitApiserverHealthy(i.ip, i.port, wait, 'the upgrade') : ''}`;
}
