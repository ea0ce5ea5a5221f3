# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-node-agent: T_* come from the task
# Tasks etcd-snapshot and node-exec (src/core/etcd-backup-protocol.ts).
#
# etcd-snapshot: `etcdctl snapshot save` of this control plane's local member with kubeadm's
# etcd CA and health-check client certificate, checked with `etcdctl snapshot status`, then
# uploaded to the rack (PUT /agent/v1/tasks/<id>/file, the machine's OS token, the file's
# SHA-256 in a header the rack checks the bytes against). The node's copy never outlives the
# task: a snapshot holds every Secret of the cluster.
#
# node-exec: one script (T_SCRIPT) run by sh as root, its stdout (at most 1 MiB) returned as
# base64; with T_FETCH, the task's file is downloaded from the rack to that path first.
ETCD_PKI=${INGOT_ROOT:-}/etc/kubernetes/pki/etcd
# The task's file on the rack.
task_file_url() { printf '%s/agent/v1/tasks/%s/file' "$URL" "$T_ID"; }

do_etcd_snapshot() {
  case "$T_MAX_BYTES" in '' | *[!0-9]*) die "the task has no size limit (T_MAX_BYTES)" ;; esac
  umask 077
  snap=${INGOT_ROOT:-}/var/lib/ingot-etcd-snapshot-$T_ID.db
  mkdir -p "${snap%/*}"
  trap 'rm -f "$snap" "$snap.part"' EXIT
  rm -f "$snap" "$snap.part"
  progress "etcdctl snapshot save of the local member"
  ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert="$ETCD_PKI/ca.crt" \
    --cert="$ETCD_PKI/healthcheck-client.crt" --key="$ETCD_PKI/healthcheck-client.key" \
    --command-timeout=120s snapshot save "$snap" >"$RUN/etcd.out" 2>&1 ||
    die "etcdctl snapshot save failed: $(tail -n 3 "$RUN/etcd.out")"
  status=$(ETCDCTL_API=3 etcdctl snapshot status "$snap" --write-out=json 2>"$RUN/etcd.out") ||
    die "etcdctl snapshot status refused the file: $(tail -n 3 "$RUN/etcd.out")"
  num() { printf '%s' "$status" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
  revision=$(num revision)
  keys=$(num totalKey)
  hash=$(num hash)
  [ -n "$revision" ] && [ -n "$keys" ] && [ -n "$hash" ] || die "etcdctl snapshot status said: $status"
  size=$(wc -c <"$snap")
  [ "$size" -le "$T_MAX_BYTES" ] || die "the snapshot is $size bytes, over the region's limit of $T_MAX_BYTES"
  sum=$(sha256sum "$snap" | cut -d' ' -f1)
  progress "uploading the snapshot: $size bytes, revision $revision, $keys keys, sha256 $sum"
  code=$(curl -K "$TLSCFG" -sS -m 1800 -H @"$HDR" -H 'Content-Type: application/octet-stream' \
    -H "X-Ingot-Sha256: $sum" -T "$snap" -o "$RUN/upload.out" -w '%{http_code}' "$(task_file_url)" 2>&1)
  [ "$code" = 200 ] || die "the rack refused the snapshot upload (HTTP $code): $(head -c 300 "$RUN/upload.out" 2>/dev/null)"
  printf '{"sha256":"%s","bytes":%s,"revision":%s,"totalKeys":%s,"hash":%s}' \
    "$sum" "$size" "$revision" "$keys" "$hash" >"$RUN/result"
  printf 'snapshot at revision %s (%s keys, %s bytes) stored by the rack' "$revision" "$keys" "$size" >"$RUN/message"
}

do_node_exec() {
  [ -n "$T_SCRIPT" ] || die "the task has no script"
  umask 077
  if [ -n "$T_FETCH" ]; then
    code=$(curl -K "$TLSCFG" -sS -m 1800 -H @"$HDR" -o "$T_FETCH.part" -w '%{http_code}' "$(task_file_url)" 2>&1)
    [ "$code" = 200 ] || { rm -f "$T_FETCH.part"; die "fetching the task's file from the rack failed (HTTP $code)"; }
    mv "$T_FETCH.part" "$T_FETCH"
  fi
  printf '%s\n' "$T_SCRIPT" >"$RUN/exec.sh"
  sh "$RUN/exec.sh" </dev/null >"$RUN/exec.out" 2>"$RUN/exec.err"
  rc=$?
  cat "$RUN/exec.err"
  [ $rc = 0 ] || die "exited with status $rc: $(tail -c 2000 "$RUN/exec.err")"
  [ "$(wc -c <"$RUN/exec.out")" -le 1048576 ] || die "its output is over 1 MiB"
  printf '{"stdout":"%s"}' "$(base64 -w 0 "$RUN/exec.out")" >"$RUN/result"
  rm -f "$RUN/exec.out" "$RUN/exec.sh"
}
