# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Talking to the rack: POST with retries, reports about the current task (progress, named
# events) and ending a task's subshell with a reason.
# cipher_prefs: curl config lines asking for ChaCha20-Poly1305 first on a CPU without AES
# instructions (QEMU's default CPU under TCG, some low-power boards): there, OpenSSL's AES-256-GCM
# ran at 1.3 MB/s and ChaCha20-Poly1305 at 45 MB/s (docs/agent.md), and the image download is
# the deploy's longest step. CPUs with AES keep TLS's default order (AES-GCM is faster there).
cipher_prefs() {
  grep -qw aes "${INGOT_CPUINFO:-/proc/cpuinfo}" 2>/dev/null && return 0
  echo 'tls13-ciphers = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"'
  echo 'ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"'
}
# post PATH: POSTs stdin as JSON; retries for a minute (the rack may restart).
post() {
  curl -K "$TLSCFG" -sS -m 60 --retry 12 --retry-delay 5 --retry-all-errors -H @"$HDR" \
    -H 'Content-Type: application/json' --data-binary @- -o /dev/null -w '%{http_code}' "$URL$1"
}
# report JSON-FIELDS: one report about the current task.
report() { printf '{%s}' "$1" | post "/agent/v1/tasks/$T_ID" >/dev/null; }
# progress MESSAGE: the task's current step (also what the heartbeat repeats).
progress() {
  printf '%s' "$1" >"$RUN/status"
  say "$T_NAME: $1"
  report "\"status\":\"running\",\"message\":$(jstr "$1")"
}
# event NAME LEVEL MESSAGE [DATA-JSON]: a named event on the machine's timeline (agent.NAME).
event() {
  report "\"event\":\"$1\",\"level\":\"$2\",\"message\":$(jstr "$3"),\"data\":${4:-{\}}"
}
# die REASON: ends the task's subshell with a failure reason.
die() {
  printf '%s' "$*" >"$RUN/reason"
  echo "FAILED: $*"
  exit 1
}
