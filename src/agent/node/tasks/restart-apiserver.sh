# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-node-agent: T_* come from the task
# Task restart-apiserver: stops this control plane's kube-apiserver (SIGTERM; the kubelet starts
# its static pod again) and waits until the new one answers /readyz. Kubernetes 1.20's first API
# server keeps serving stale watches once the other control planes' etcd members joined
# (kubernetes/kubernetes#97294); the region asks the init node for this after the last join.
# Overridable for tests: the process name and the URL (the kubelet's static pod listens on 6443).
APISERVER_COMM=${INGOT_APISERVER_COMM:-kube-apiserver}
APISERVER_READYZ=${INGOT_APISERVER_READYZ:-https://127.0.0.1:6443/readyz}
APISERVER_WAIT=${INGOT_APISERVER_WAIT:-180}
do_restart_apiserver() {
  pids=""
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$APISERVER_COMM" ] || continue
    kill -TERM "${d#/proc/}" 2>/dev/null && pids="$pids ${d#/proc/}"
  done
  [ -n "$pids" ] || die "no $APISERVER_COMM runs on this node: is it a control plane?"
  start=$(date +%s)
  progress "stopped $APISERVER_COMM (pid$pids); waiting for the kubelet to start it again"
  # The old one first (it drains for a while), so its own last /readyz is not taken for the new one's.
  while :; do
    alive=""
    for p in $pids; do [ -d "/proc/$p" ] && alive=1; done
    [ -z "$alive" ] && break
    [ $(($(date +%s) - start)) -lt "$APISERVER_WAIT" ] || die "$APISERVER_COMM (pid$pids) did not stop within $APISERVER_WAIT s"
    sleep 1
  done
  until [ "$(curl -sk --max-time 2 "$APISERVER_READYZ" 2>/dev/null)" = ok ]; do
    [ $(($(date +%s) - start)) -lt "$APISERVER_WAIT" ] || die "$APISERVER_COMM did not answer /readyz within $APISERVER_WAIT s of its restart"
    sleep 1
  done
  took=$(($(date +%s) - start))
  printf '{"readyAfterSeconds":%s}' "$took" >"$RUN/result"
  printf '%s' "$APISERVER_COMM restarted: /readyz ok after $took s" >"$RUN/message"
}
