# shellcheck shell=sh disable=SC3043  # sourced by ingot-node-agent
# What the node runs, cheaply: for the hello and the bootstrap's result (JSON object fields).
cgroup_hierarchy() { if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then echo v2; else echo v1; fi; }
containerd_running() {
  sock=${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}
  if systemctl is-active --quiet containerd 2>/dev/null || { [ -S "$sock" ] && ctr --timeout 5s version >/dev/null 2>&1; }; then
    echo true
  else
    echo false
  fi
}
# node_facts: {"kubelet":…,"containerd":…,"containerdRunning":…}
node_facts() {
  printf '{"kubelet":%s,"containerd":%s,"containerdRunning":%s}' \
    "$(jstr "$(kubelet --version 2>/dev/null | head -n 1)")" \
    "$(jstr "$(containerd --version 2>/dev/null | head -n 1)")" "$(containerd_running)"
}
