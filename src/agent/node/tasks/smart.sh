# shellcheck shell=sh disable=SC3043  # sourced by ingot-node-agent
# Disk health from a deployed node: smartctl's JSON of each disk (-i -H -A, as commissioning
# takes it) POSTed to the rack's /agent/v1/node-smart every INGOT_SMART_INTERVAL_S seconds
# (default 3600; 0: never). The region keeps each disk by its serial (docs/health.md).

# node_disks: the node's whole disks (no partitions, loop, RAM, optical, device-mapper or removable).
node_disks() {
  for d in "${INGOT_ROOT:-}"/sys/block/*; do
    n=${d##*/}
    case "$n" in '*' | loop* | ram* | sr* | zram* | dm-* | md* | fd* | nbd* | mmcblk*boot* | mmcblk*rpmb) continue ;; esac
    [ "$(cat "$d/size" 2>/dev/null || echo 0)" -gt 0 ] || continue
    [ "$(cat "$d/removable" 2>/dev/null || echo 0)" = 1 ] && continue
    echo "$n"
  done
}

# smart_json: {"disks":[<smartctl JSON>…]}; a disk smartctl answers nothing useful for is left out.
smart_json() {
  sj=
  for d in $(node_disks); do
    # smartctl's exit status is a bit mask (bit 3: failure predicted): the JSON is what counts.
    # A disk that hangs its commands must not stop the agent taking tasks: 60 s each.
    sc=$(timeout 60 smartctl --json -i -H -A "/dev/$d" 2>/dev/null)
    case "$sc" in "{"*) sj="$sj${sj:+,}$sc" ;; esac
  done
  printf '{"disks":[%s]}' "$sj"
}

# smart_report: one report to the rack; never fails the agent.
smart_report() {
  if ! command -v smartctl >/dev/null 2>&1; then
    say "smartctl is not installed: no SMART reports"
    return 0
  fi
  smart_json >"$RUN/smart.json"
  code=$(post /agent/v1/node-smart <"$RUN/smart.json")
  if [ "$code" = 200 ]; then
    say "SMART of $(node_disks | wc -l) disk(s) reported"
  else
    say "the rack refused the SMART report (HTTP ${code:-none})"
  fi
  rm -f "$RUN/smart.json"
}

# smart_due: reports when the interval has passed since the last report (or none was sent).
SMART_LAST=0
smart_due() {
  interval=${INGOT_SMART_INTERVAL_S:-3600}
  [ "$interval" -gt 0 ] 2>/dev/null || return 0
  now=$(date +%s)
  if [ $((now - SMART_LAST)) -ge "$interval" ]; then
    SMART_LAST=$now
    smart_report
  fi
}
