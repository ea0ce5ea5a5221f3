# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-node-agent: T_* come from the task
# Heartbeats while a task runs, and the node's own record of them. The region fails a task it
# has not heard about for 120 s (src/engine/agent-tasks-port.ts), so a heartbeat is ONE bounded
# attempt (INGOT_BEAT_TIMEOUT_S, 45 s) every INGOT_BEAT_S (5 s): with lib/rack.sh's post (60 s
# per try, 12 tries) one slow TLS handshake on a starved guest held every later beat behind it
# for up to 13 min. Each beat is a line of $STATE/heartbeats.log (on disk: it outlives the agent,
# a silence failure and a reboot) with curl's timings (TCP connect, TLS done, total), the node's
# load, available memory and CPU pressure, so a silence says afterwards whether the network, the
# rack or the node's own CPU stopped it. A failed beat also goes to the kernel log (KMSG), which
# the serial console shows; the first beat that gets through after failures carries a
# `heartbeat-gap` event with what failed, so the timeline has the node's side too.
BEAT_S=${INGOT_BEAT_S:-5}
BEAT_TIMEOUT_S=${INGOT_BEAT_TIMEOUT_S:-45}
BEATS=$STATE/heartbeats.log
# The journal is written on the tmpfs (a write there never waits for the disk: in the 15:00 lab
# run the node's disk writes stopped landing 35 s before its words stopped) and copied to the
# disk in the background, one copy at a time, so a stalled disk never holds a beat.
JOURNAL=$RUN/heartbeats.log
[ -e "$JOURNAL" ] || cp "$BEATS" "$JOURNAL" 2>/dev/null

# persist [force]: the journal's copy on disk, in the background (force: even if one runs).
persist() {
  if [ -n "$1" ] || [ -z "${copier:-}" ] || ! kill -0 "$copier" 2>/dev/null; then
    (cp "$JOURNAL" "$BEATS.new" 2>/dev/null && mv "$BEATS.new" "$BEATS") &
    copier=$!
  fi
}

# journal LINE: one line of the heartbeat journal, with the node's UTC time; kept to 2,000 lines.
journal() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$JOURNAL"
  beats_n=$((${beats_n:-0} + 1))
  if [ "$beats_n" -ge 200 ]; then
    beats_n=0
    if [ "$(wc -l <"$JOURNAL")" -gt 2000 ]; then
      tail -n 1000 "$JOURNAL" >"$JOURNAL.new" && mv "$JOURNAL.new" "$JOURNAL"
    fi
  fi
  persist
}

# console LINE: to the kernel log (the serial console), at level err so `quiet` still shows it.
console() {
  [ -w "$KMSG" ] && printf '<3>ingot-node-agent: %s\n' "$*" >>"$KMSG" 2>/dev/null
  return 0
}

# node_load: the node's load average, available memory and CPU pressure, from /proc (no forks
# but the one sed: on a starved guest every process counts).
node_load() {
  read -r l1 l5 _ _ _ </proc/loadavg 2>/dev/null
  mem=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB$/\1/p' /proc/meminfo 2>/dev/null)
  psi=
  [ -r /proc/pressure/cpu ] && read -r _ psi _ </proc/pressure/cpu 2>/dev/null
  printf 'load=%s/%s mem-avail=%sMiB cpu-some-%s' "$l1" "$l5" "$((${mem:-0} / 1024))" "${psi:-avg10=?}"
}

# beat [JSON-FIELDS]: one report about the current task, one attempt; journals it. Status 0 if
# the rack took it.
beat() {
  w=$(printf '{%s}' "$1" | curl -K "$TLSCFG" -sS -m "$BEAT_TIMEOUT_S" -H @"$HDR" \
    -H 'Content-Type: application/json' --data-binary @- -o /dev/null \
    -w 'http=%{http_code} connect=%{time_connect}s tls=%{time_appconnect}s total=%{time_total}s' \
    "$URL/agent/v1/tasks/$T_ID" 2>"$RUN/beat.err")
  c=$?
  w=${w:-http=none}
  case "$w" in
    http=200*)
      journal "beat ok $w $(node_load)"
      return 0
      ;;
  esac
  err=$(tr '\n' ' ' <"$RUN/beat.err" | cut -c1-200)
  line="curl=$c $w $(node_load)${err:+ error: $err}"
  console "heartbeat of task $T_NAME FAILED: $line"
  journal "beat FAILED $line"
  return 1
}

# heartbeats: the loop the agent runs beside a task (killed when the task ends).
heartbeats() {
  failed=0
  since=
  last=
  while sleep "$BEAT_S"; do
    body=
    if [ "$failed" -gt 0 ]; then
      msg="$failed heartbeats failed from $since to $(date -u +%H:%M:%SZ) (node time); last: $last"
      body="\"event\":\"heartbeat-gap\",\"level\":\"warning\",\"message\":$(jstr "$msg")"
    fi
    if beat "$body"; then
      [ "$failed" -gt 0 ] && console "heartbeats of task $T_NAME got through again after $failed failed"
      failed=0
    else
      [ "$failed" = 0 ] && since=$(date -u +%H:%M:%SZ)
      failed=$((failed + 1))
      last=$(tail -n 1 "$JOURNAL" | cut -d' ' -f4-)
    fi
  done
}

# beats_failed: for the task's log, how many beats the task had, how many failed, the slowest
# (its timings say whether TCP, TLS or the answer was slow), and the failed ones (since the
# task's start line).
beats_failed() {
  [ -r "$JOURNAL" ] || return 0
  sed -n "/ task $T_NAME $T_ID started\$/,\$p" "$JOURNAL" >"$RUN/beats.task"
  awk '/ beat / { n++; if (/ beat FAILED /) f++; t = $0; if (sub(/.* total=/, "", t)) { sub(/s.*/, "", t); if (t + 0 >= max) { max = t + 0; slow = $0 } } }
    END { if (n) printf "heartbeat journal: %d beats, %d failed; slowest (%ss): %s\n", n, f, max, slow }' "$RUN/beats.task"
  grep ' beat FAILED ' "$RUN/beats.task" | tail -n 20 | sed 's/^/heartbeat journal: /'
  rm -f "$RUN/beats.task"
}
