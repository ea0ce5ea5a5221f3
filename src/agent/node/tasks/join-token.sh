# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-node-agent: T_* come from the task
# Task join-token, on a control plane: a fresh kubeadm bootstrap token valid for one hour, for a
# worker joining the running cluster (a scale). The token goes in the result only — the rack
# seals it — never in the log or the message (kubeadm's output is redacted as the bootstrap's).
do_join_token() {
  umask 077
  conf=${INGOT_ROOT:-}/etc/kubernetes/admin.conf
  [ -s "$conf" ] || die "$conf is missing: this node is not a control plane of a running cluster"
  progress "creating a join token (kubeadm token create --ttl 1h)"
  if ! timeout -k 10 60 kubeadm token create --kubeconfig "$conf" --ttl 1h --print-join-command \
    >"$RUN/join-token.out" 2>"$RUN/join-token.err" </dev/null; then
    die "kubeadm token create failed: $(tail -n 3 "$RUN/join-token.err" | redact)"
  fi
  token=$(sed -n 's/.*--token \([a-z0-9]\{6\}\.[a-z0-9]\{16\}\).*/\1/p' "$RUN/join-token.out" | head -n 1)
  rm -f "$RUN/join-token.out" "$RUN/join-token.err"
  [ -n "$token" ] || die "kubeadm token create printed no join command with a token"
  printf '{"token":"%s"}' "$token" >"$RUN/result"
  printf '%s' "join token created (valid 1 h)" >"$RUN/message"
}
