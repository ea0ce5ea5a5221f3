/**
 * The certificate rotation of a kubeadm control plane (docs/day2.md "Certificate rotation"):
 * the script a control plane's node agent runs as its `bootstrap` task (the same task protocol
 * as a reconfigure; the script is what differs). `kubeadm certs renew all` renews every leaf
 * certificate under /etc/kubernetes/pki and the kubeconfigs' client certificates with the CAs
 * on the node; the static pods only read them when they start, so the script then restarts
 * them — their manifests held aside until the kubelet has stopped them, then put back — and
 * waits until this node's kube-apiserver answers /healthz again. Run again after a crash it
 * puts back manifests a run before it held aside first. Its `ingot-phase:` lines are the
 * node's progress on the timeline.
 */

/** The control-plane static pods a rotation restarts (etcd only where it is stacked). */
export const ROTATED_MANIFESTS = [
  'etcd.yaml',
  'kube-apiserver.yaml',
  'kube-controller-manager.yaml',
  'kube-scheduler.yaml',
] as const;

export interface CertRotateScriptInput {
  hostname: string;
  /** The node's address and the API server's port (its /healthz is waited for). */
  ip: string;
  port: number;
  /** How long to wait for the static pods to stop, and then for the API, seconds. @default 300 */
  waitSeconds?: number;
}

export function certRotateScript(i: CertRotateScriptInput): string {
  const wait = i.waitSeconds ?? 300;
  return `#!/bin/sh
# Rendered by Ingot: certificate rotation of ${i.hostname}'s control plane (docs/day2.md).
set -eu
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
umask 077
manifests=/etc/kubernetes/manifests
held=/etc/kubernetes/manifests.ingot-rotate
put_back() {
  [ -d $held ] || return 0
  for f in $held/*.yaml; do [ -e "$f" ] && mv "$f" $manifests/; done
  rmdir $held
}
# A run before this one stopped with the manifests held aside: put them back first.
put_back
# This node's control-plane processes: hostNetwork pods in this network namespace.
me=$(readlink /proc/self/ns/net)
running() {
  for d in /proc/[0-9]*; do
    case "$(cat $d/comm 2>/dev/null)" in
      etcd | kube-apiserver | kube-controller | kube-scheduler) ;;
      *) continue ;;
    esac
    [ "$(readlink $d/ns/net 2>/dev/null)" = "$me" ] && echo "$(cat $d/comm)"
  done
  return 0
}
kubeadm certs renew all
echo "ingot-phase: certificates-renewed"
mkdir -p $held
for f in ${ROTATED_MANIFESTS.join(' ')}; do
  [ -e $manifests/$f ] && mv $manifests/$f $held/
done
n=0
while [ -n "$(running)" ]; do
  n=$((n + 2))
  if [ $n -gt ${wait} ]; then
    put_back
    echo "the kubelet did not stop $(running | sort -u | tr '\\n' ' ')within ${wait} s" >&2
    exit 1
  fi
  sleep 2
done
echo "ingot-phase: static-pods-stopped"
put_back
${waitApiserverHealthy(i.ip, i.port, wait, 'its restart')}`;
}

/**
 * Shell that waits up to `waitSeconds` for the kube-apiserver at ip:port to answer /healthz,
 * then prints the `apiserver-healthy` phase (shared by the rolling operations' scripts).
 */
export function waitApiserverHealthy(ip: string, port: number, waitSeconds: number, after: string): string {
  return `n=0
until curl -skf --max-time 5 https://${ip}:${port}/healthz >/dev/null; do
  n=$((n + 2))
  if [ $n -gt ${waitSeconds} ]; then
    echo "the kube-apiserver did not answer /healthz within ${waitSeconds} s of ${after}" >&2
    exit 1
  fi
  sleep 2
done
echo "ingot-phase: apiserver-healthy"
`;
}
