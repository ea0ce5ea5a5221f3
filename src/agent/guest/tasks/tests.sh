# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Task tests: the hardware tests named in T_TESTS (smart, disk-read, memory, cpu), each one a
# named event on the timeline; any failure fails the task.
ZERO_1M_SHA256=30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58
test_result() { # NAME RESULT MESSAGE [DATA]
  lvl=info
  [ "$2" = failed ] && lvl=error
  [ "$2" = skipped ] && lvl=warning
  event "test.$1" "$lvl" "$1: $2: $3" "{\"test\":\"$1\",\"result\":\"$2\"${4:+,$4}}"
  echo "test $1: $2: $3"
  [ "$2" = failed ] && echo "$1: $3" >>"$RUN/failures"
  return 0
}
test_smart() {
  ran=0
  for d in $(disks); do
    health=$(smart_health "$d")
    [ "$health" = unsupported ] && continue
    ran=1
    if [ "$health" = failed ]; then
      test_result smart failed "$d: SMART health check failed"
      continue
    fi
    progress "SMART short self-test on $d"
    started=$(smartctl -t short "/dev/$d" 2>&1)
    case "$started" in
      *"has begun"* | *"Testing has begun"*) ;;
      *)
        # Some devices (many virtual NVMe controllers, older SSDs) run no self-tests: say so.
        test_result smart passed "$d: health PASSED; the device runs no self-test" '"selfTest":"unsupported"'
        continue ;;
    esac
    i=0
    while [ $i -lt 60 ] && smartctl -c "/dev/$d" 2>/dev/null | grep -qi 'in progress'; do sleep 5; i=$((i + 1)); done
    log=$(smartctl -l selftest "/dev/$d" 2>&1)
    # The newest entry: ATA "# 1  Short offline  Completed…", NVMe " 0   Short   Completed…".
    first=$(echo "$log" | grep -m 1 -E '^# 1 |^ *0 +(Short|Extended)')
    case "$first" in
      *"Completed without error"*) test_result smart passed "$d: self-test completed without error" '"selfTest":"completed"' ;;
      *) test_result smart failed "$d: self-test did not complete: ${first:-no entry in the self-test log}" ;;
    esac
  done
  [ $ran = 1 ] || test_result smart skipped "no disk reports SMART (virtual disks do not)"
}
test_disk_read() {
  for d in $(disks); do
    mib=${T_DISK_READ_MIB:-256}
    total=$(($(cat "/sys/block/$d/size") / 2048))
    [ "$mib" -eq 0 ] || [ "$mib" -gt "$total" ] && mib=$total
    progress "reading $mib MiB of $d"
    t0=$(cut -d' ' -f1 /proc/uptime)
    if dd if="/dev/$d" of=/dev/null bs=1M count="$mib" 2>"$RUN/dd.err"; then
      t1=$(cut -d' ' -f1 /proc/uptime)
      rate=$(awk -v m="$mib" -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; if (d <= 0) d = 0.01; printf "%.1f", m / d }')
      test_result disk-read passed "$d: read $mib MiB at $rate MiB/s" "\"disk\":\"$d\",\"mib\":$mib,\"mibps\":$rate"
    else
      test_result disk-read failed "$d: read error: $(tail -n 1 "$RUN/dd.err")" "\"disk\":\"$d\""
    fi
  done
}
test_memory() {
  mib=${T_MEMORY_MIB:-64}
  progress "memtester ${mib} MiB, 1 pass"
  if memtester "${mib}M" 1 >"$RUN/memtester.log" 2>&1; then
    test_result memory passed "memtester ${mib} MiB: ok" "\"mib\":$mib"
  else
    test_result memory failed "memtester ${mib} MiB: $(grep -i 'FAILURE' "$RUN/memtester.log" | head -n 1)" "\"mib\":$mib"
  fi
}
test_cpu() {
  secs=${T_CPU_SECONDS:-30}
  n=$(grep -c '^processor' /proc/cpuinfo)
  progress "CPU stress: $n CPUs for $secs s"
  end=$(($(cut -d. -f1 /proc/uptime) + secs))
  pids=
  i=0
  while [ $i -lt "$n" ]; do
    (
      while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        h=$(head -c 1048576 /dev/zero | sha256sum)
        [ "${h%% *}" = "$ZERO_1M_SHA256" ] || exit 1
      done
    ) &
    pids="$pids $!"
    i=$((i + 1))
  done
  bad=0
  for p in $pids; do wait "$p" || bad=$((bad + 1)); done
  if [ $bad = 0 ]; then
    test_result cpu passed "$n CPUs busy for $secs s, every checksum right" "\"cpus\":$n,\"seconds\":$secs"
  else
    test_result cpu failed "$bad of $n CPUs computed a wrong checksum under load" "\"cpus\":$n,\"seconds\":$secs"
  fi
}
do_tests() {
  : >"$RUN/failures"
  for t in $T_TESTS; do
    case "$t" in
      smart) test_smart ;;
      disk-read) test_disk_read ;;
      memory) test_memory ;;
      cpu) test_cpu ;;
      *) test_result "$t" skipped "unknown test" ;;
    esac
  done
  [ -s "$RUN/failures" ] && die "hardware test failed: $(head -n 1 "$RUN/failures")"
  printf '{"tests":"%s"}' "$T_TESTS" >"$RUN/result"
  printf '%s' "tests passed: ${T_TESTS:-none}" >"$RUN/message"
}
