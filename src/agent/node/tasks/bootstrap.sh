# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-node-agent: T_* come from the task
# Task bootstrap: the node's rendered bootstrap script (src/cluster/render) as root, with a
# timeout. Its `ingot-phase: <name>` lines become progress lines and the result's phases; a
# failure's reason is the phase it stopped in and the last lines of its output. The init node's
# result carries /etc/kubernetes/admin.conf as base64: only in the result, never in a log.
# Output that kubeadm prints with secrets in it (bootstrap tokens, certificate keys) is redacted
# before it leaves the machine.
BOOTSTRAP_TIMEOUT=${INGOT_BOOTSTRAP_TIMEOUT:-2700}
redact() {
  sed -e 's/[a-z0-9]\{6\}\.[a-z0-9]\{16\}/<redacted-token>/g' \
    -e 's/\(--certificate-key\)[ =]*[0-9a-fA-F]\{16,\}/\1 <redacted>/g' \
    -e 's/\(client-key-data\|client-certificate-data\|certificate-authority-data\): *[^ ]*/\1: <redacted>/g'
}
# Phase names as the protocol takes them (letters, digits, . _ : / -); anything after is ignored.
phases() { sed -n 's#^ingot-phase: *\([A-Za-z0-9][A-Za-z0-9._:/-]*\).*$#\1#p' "$RUN/bootstrap.out" | cut -c1-64 | head -n 64; }
# Reports each phase the script entered since the last call (the newest is the task's status).
# How many were reported is kept in a file: the watcher (a subshell) and the last call after it
# (the task's shell) share it. A phase counts as reported once its report went out: the watcher
# is killed when the script ends, maybe in the middle of a report, and the last call then sends
# that phase again (the region keeps one event for a repeated line) rather than never.
report_phases() {
  phases >"$RUN/phases.now"
  n=$(wc -l <"$RUN/phases.now")
  seen=$(cat "$RUN/phases.seen" 2>/dev/null || echo 0)
  while [ "$seen" -lt "$n" ]; do
    progress "phase $(sed -n "$((seen + 1))p" "$RUN/phases.now")"
    seen=$((seen + 1))
    # Replaced whole (a kill in the middle of a write must not leave it empty).
    echo "$seen" >"$RUN/phases.seen.new" && mv -f "$RUN/phases.seen.new" "$RUN/phases.seen"
  done
}
do_bootstrap() {
  case "$T_ROLE" in init | control-plane | worker) ;; *) die "unknown role '$T_ROLE' (init, control-plane or worker)" ;; esac
  [ -n "$T_SCRIPT" ] || die "the task has no bootstrap script"
  umask 077
  printf '%s\n' "$T_SCRIPT" >"$RUN/bootstrap.sh"
  chmod 700 "$RUN/bootstrap.sh"
  : >"$RUN/bootstrap.out"
  progress "running the $T_ROLE bootstrap script (at most $BOOTSTRAP_TIMEOUT s)"
  # Output to a file, not a pipe: a daemon the script starts must not hold the agent's pipe open.
  # Run by bash, not executed: Debian mounts /run noexec (on a lab VM the direct exec failed
  # with "Permission denied", status 126; the test bed's namespace nodes have no noexec /run).
  timeout -k 30 "$BOOTSTRAP_TIMEOUT" bash "$RUN/bootstrap.sh" </dev/null >"$RUN/bootstrap.out" 2>&1 &
  pid=$!
  echo 0 >"$RUN/phases.seen"
  (while sleep 2; do report_phases; done) &
  watcher=$!
  wait $pid
  rc=$?
  kill $watcher 2>/dev/null
  wait $watcher 2>/dev/null
  report_phases
  redact <"$RUN/bootstrap.out"
  last=$(phases | tail -n 1)
  if [ $rc != 0 ]; then
    if [ $rc = 124 ] || [ $rc = 137 ]; then what="timed out after $BOOTSTRAP_TIMEOUT s"; else what="exited with status $rc"; fi
    die "the $T_ROLE bootstrap script $what${last:+ in phase $last}: $(tail -n 5 "$RUN/bootstrap.out" | redact)"
  fi
  kubeconfig=
  if [ "$T_ROLE" = init ]; then
    conf=${INGOT_ROOT:-}/etc/kubernetes/admin.conf
    [ -s "$conf" ] || die "the init bootstrap finished but $conf is missing: the cluster's admin kubeconfig cannot be returned"
    kubeconfig=",\"adminKubeconfig\":\"$(base64 -w 0 "$conf")\""
  fi
  list=$(phases | awk 'BEGIN { ORS = "" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), $0 }')
  printf '{"phases":[%s]%s,"node":%s}' "$list" "$kubeconfig" "$(node_facts)" >"$RUN/result"
  printf '%s' "$T_ROLE bootstrap finished: $(phases | wc -l) phases${last:+, last $last}" >"$RUN/message"
}
