/**
 * The cgroup setup of a Kubernetes node, by the kubelet's minor: one definition for the node
 * image (kernel arguments, containerd's default) and the cluster's render (the kubelet's and
 * containerd's configs).
 *
 * - Kubelets before 1.25 support only cgroup v1, and Debian 12 boots the unified (v2) hierarchy:
 *   those nodes boot the legacy hierarchy.
 * - On cgroup v1 the cgroup driver is `cgroupfs`. With the `systemd` driver, the libcontainer of
 *   kubelet 1.20 (runc 1.0.0-rc92) freezes a cgroup around every update of its settings, and so
 *   does runc's systemd manager around a container's creation: each freeze and thaw flips the
 *   kernel's freezer static key, patching kernel text on every CPU. On a lab VM (2 vCPUs, QEMU
 *   TCG) that livelocked the guest during `kubeadm init`: runc and containerd-shim spinning at
 *   get_signal's freezer check for minutes, both CPUs "soft lockup", the node agent silent
 *   (docs/cluster.md). The fs manager writes the cgroup files directly and never freezes.
 * - From 1.25, cgroup v2 with the `systemd` driver (Kubernetes' recommendation under systemd).
 */

/** Whether nodes of this Kubernetes minor boot the legacy (v1) cgroup hierarchy. */
export const bootsCgroupV1 = (minor: number): boolean => minor < 25;

/** The kubelet's and containerd's cgroup driver for nodes of this minor. */
export const cgroupDriverFor = (minor: number): 'cgroupfs' | 'systemd' =>
  bootsCgroupV1(minor) ? 'cgroupfs' : 'systemd';
