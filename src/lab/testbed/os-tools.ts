/**
 * What a bed node's "OS" has in place of a machine's: a node is a namespace with an init shell
 * (node.ts), not a systemd machine with loadable modules, so the commands a rendered bootstrap
 * (src/cluster/render/bootstrap.ts) calls to manage services and modules are these small
 * stand-ins in the node's /usr/local/sbin. They do what the real ones would do to this node:
 *
 * - `systemctl restart containerd|kubelet` kills the service by the PID its init loop recorded
 *   (the loop starts it again, as a unit's Restart= does) and waits for containerd to answer;
 *   `enable`, `daemon-reload` and `start` succeed (the init runs both services anyway: the
 *   kubelet once kubeadm wrote its config); anything else fails, naming itself.
 * - `journalctl -u UNIT [-n N]` prints the last N lines (default 10) of the log the init writes
 *   for the unit (/var/log/UNIT.log: the kubelet's), so a failed join's reason carries the
 *   kubelet's last words as on a machine — not the host's journal, which the node would read.
 * - `crictl` is the one a node gets from its bundle when it carries none
 *   (src/bundles/crictl-shim.ts: kubeadm's questions through Debian's ctr).
 * - `modprobe M` succeeds when M is built into this host's kernel (/sys/module/M, a filesystem
 *   in /proc/filesystems, br_netfilter's sysctls), as kmod's does for a built-in module; this
 *   kernel has no loadable modules.
 */
export const SYSTEMCTL = `#!/bin/sh
# The test bed's systemctl (src/lab/testbed/os-tools.ts): the node's init runs its services.
unit=\${2%.service}
case "$1" in
  enable | daemon-reload | start) exit 0 ;;
  is-active) [ -s "/run/$unit.pid" ] && kill -0 "$(cat "/run/$unit.pid")" 2>/dev/null ;;
  restart)
    case "$unit" in
      containerd | kubelet) ;;
      *) echo "bed systemctl: no service $unit on a test-bed node" >&2; exit 5 ;;
    esac
    [ -s "/run/$unit.pid" ] && kill "$(cat "/run/$unit.pid")" 2>/dev/null
    if [ "$unit" = containerd ]; then
      for i in $(seq 1 60); do
        sleep 0.5
        ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1 && exit 0
      done
      echo "bed systemctl: containerd did not come back" >&2
      exit 1
    fi
    ;;
  *) echo "bed systemctl: $1 is not supported on a test-bed node" >&2; exit 1 ;;
esac
`;

export const MODPROBE = `#!/bin/sh
# The test bed's modprobe (src/lab/testbed/os-tools.ts): this kernel's modules are built in.
for m in "$@"; do
  case "$m" in -*) continue ;; esac
  # Built in: listed in /sys/module when it has parameters, else seen by what it provides.
  [ -d "/sys/module/$m" ] || grep -qw "$m" /proc/filesystems || { [ "$m" = br_netfilter ] && [ -d /proc/sys/net/bridge ]; } || { echo "modprobe: module $m not found in this kernel" >&2; exit 1; }
done
`;

export const JOURNALCTL = `#!/bin/sh
# The test bed's journalctl (src/lab/testbed/os-tools.ts): the node's init logs its services to /var/log/UNIT.log.
unit= n=10
while [ $# -gt 0 ]; do
  case "$1" in
    -u) unit=\${2%.service}; shift ;;
    -n) n=$2; shift ;;
  esac
  shift
done
[ -n "$unit" ] || { echo "bed journalctl: only -u UNIT is supported on a test-bed node" >&2; exit 1; }
[ -f "/var/log/$unit.log" ] || { echo "bed journalctl: no log for $unit on this node" >&2; exit 1; }
tail -n "$n" "/var/log/$unit.log"
`;
