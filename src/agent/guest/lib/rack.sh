# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Talking to the rack: POST with retries, reports about the current task (progress, named
# events) and ending a task's subshell with a reason.
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
