/**
 * The kubeadm upgrade of one node (docs/day2.md "Upgrade"): the script its node agent runs as
 * its `bootstrap` task during an `upgrade` operation. The first control plane runs
 * `kubeadm upgrade apply <target> --yes` (the new control-plane manifests, the cluster's
 * kubeadm and kubelet configuration, its certificates renewed), the other control planes and
 * the workers `kubeadm upgrade node`; each then restarts its kubelet and a control plane waits
 * until its kube-apiserver answers /healthz. The node's kubeadm must already be the target's
 * (the target bundle's binaries on the node): the script refuses otherwise, naming both
 * versions, before it changes anything. Its `ingot-phase:` lines are the node's progress.
 */
import { waitApiserverHealthy } from './cert-rotate.ts';

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
  return `#!/bin/sh
# Rendered by Ingot: kubeadm upgrade of ${i.hostname} to ${i.target} (docs/day2.md).
set -eu
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
have=$(kubeadm version -o short)
if [ "$have" != "${i.target}" ]; then
  echo "kubeadm on ${i.hostname} is $have, not ${i.target}: put the ${i.target} bundle's kubeadm and kubelet on the node first" >&2
  exit 1
fi
${upgrade}
echo "ingot-phase: kubeadm-upgraded"
systemctl restart kubelet
echo "ingot-phase: kubelet-restarted"
${cp ? waitApiserverHealthy(i.ip, i.port, wait, 'the upgrade') : ''}`;
}
