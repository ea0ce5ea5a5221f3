/**
 * The crictl a node gets when its bundle carries none. kubeadm 1.20 will not start without a
 * `crictl` on the PATH for a CRI runtime (its preflight's `FileExisting-crictl`, and the image
 * check that follows fails outright), and Debian 12 packages no cri-tools, so a bundle built
 * from Debian's Kubernetes source has no crictl. This script answers what kubeadm asks of the
 * runtime through containerd's own `ctr` (Debian's containerd package):
 *
 * - `info`, `version`: containerd answers (kubeadm's "is the runtime running");
 * - `inspecti IMAGE`: the image is in containerd's `k8s.io` namespace (imported from the bundle);
 * - `pull IMAGE`: `ctr images pull` (a node with a registry; an airgapped one fails, named);
 * - `pods`: no sandbox IDs (`kubeadm reset` then leaves containers to the wipe), anything else
 *   fails naming itself.
 *
 * A bundle that carries a crictl release (`crictl-*.tar.gz`, src/bundles/layout.ts) installs
 * the real one, and so does an OS image that has one: the install step writes this script only
 * when `crictl` is missing. The test bed's nodes use it too (src/lab/testbed/node.ts).
 */
export const CRICTL_SHIM = `#!/bin/sh
# Ingot's crictl for kubeadm (src/bundles/crictl-shim.ts): the questions kubeadm asks the
# container runtime, answered through containerd's ctr. Replace it with a real crictl at will.
while [ $# -gt 0 ]; do
  case "$1" in
    -r | --runtime-endpoint | -i | --image-endpoint) shift 2 ;;
    -r=* | --runtime-endpoint=* | -i=* | --image-endpoint=*) shift ;;
    *) break ;;
  esac
done
ctr() { command ctr --address "\${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}" -n k8s.io "$@"; }
case "\${1:-}" in
  info | version) ctr version >/dev/null ;;
  inspecti) ctr images ls -q | grep -Fxq "$2" ;;
  pull) ctr images pull "$2" >/dev/null || { echo "crictl (Ingot): cannot pull $2: import it from the bundle, or reach a registry" >&2; exit 1; } ;;
  pods) exit 0 ;;
  *) echo "crictl (Ingot): '\${1:-}' is not supported: this crictl answers kubeadm only; install cri-tools for more" >&2; exit 1 ;;
esac
`;
