# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# The machine's disks and NICs, SMART health, and what the disk tasks share: write progress
# and a quick wipe.
# The disks the agent works on: whole block devices, not loop/ram/optical/device-mapper.
disks() {
  for d in /sys/block/*; do
    n=${d##*/}
    case "$n" in loop* | ram* | sr* | zram* | dm-* | md* | fd* | nbd* | mmcblk*boot* | mmcblk*rpmb) continue ;; esac
    [ "$(cat "$d/size" 2>/dev/null || echo 0)" -gt 0 ] || continue
    [ "$(cat "$d/removable" 2>/dev/null || echo 0)" = 1 ] && continue
    echo "$n"
  done
}
nics() {
  for d in /sys/class/net/*; do
    [ -e "$d/device" ] && echo "${d##*/}"
  done
}
smart_health() { # DISK -> passed | failed | unsupported
  out=$(smartctl -H "/dev/$1" 2>&1)
  case "$out" in
    *"test result: PASSED"* | *"Health Status: OK"*) echo passed ;;
    *"test result: FAILED"* | *"Health Status: FAIL"*) echo failed ;;
    *) echo unsupported ;;
  esac
}

sectors_written() { awk '{ print $7 }' "/sys/block/$1/stat"; }
# dd_position FILE: the bytes coreutils dd reported last (status=progress lines end in \r).
dd_position() { tr '\r' '\n' <"$1" 2>/dev/null | sed -n 's/^\([0-9][0-9]*\) bytes .*/\1/p' | tail -n 1; }
# Background: reports how much has reached the disk every 5 s — from dd's own position when
# DD-ERR names its status=progress output (a sparse write seeks over zeros), else the disk's
# written sectors.
watch_writes() { # DISK TOTAL-BYTES [DD-ERR]
  base=$(sectors_written "$1")
  t0=$(cut -d' ' -f1 /proc/uptime)
  while sleep 5; do
    w=
    [ -n "${3:-}" ] && w=$(dd_position "$3")
    [ -n "$w" ] || w=$((($(sectors_written "$1") - base) * 512))
    t=$(cut -d' ' -f1 /proc/uptime)
    rate=$(awk -v w="$w" -v a="$t0" -v b="$t" 'BEGIN { printf "%.1f", w / 1048576 / (b - a) }')
    progress "writing /dev/$1: $((w / 1048576)) MiB${2:+ of about $(($2 / 1048576)) MiB} at $rate MiB/s"
  done
}
# dd_error FILE: dd's error line (not its progress or record counts).
dd_error() { tr '\r' '\n' <"$1" 2>/dev/null | grep -v -e ' bytes ' -e 'records in' -e 'records out' | tail -n 1; }

# Quick wipe of one device: signatures, then the first and last MiB.
quick_wipe() {
  for p in $(ls -d "/sys/block/$1/$1"* 2>/dev/null | sort -r); do wipefs -a -q "/dev/${p##*/}" 2>/dev/null; done
  wipefs -a -q "/dev/$1" 2>/dev/null
  mib=$(($(cat "/sys/block/$1/size") / 2048))
  dd if=/dev/zero of="/dev/$1" bs=1M count=1 conv=fsync 2>/dev/null
  [ "$mib" -gt 1 ] && dd if=/dev/zero of="/dev/$1" bs=1M count=1 seek=$((mib - 1)) conv=fsync 2>/dev/null
  blockdev --rereadpt "/dev/$1" 2>/dev/null
  return 0
}
