# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Task wipe: every disk, quick (signatures, first and last MiB) or secure (secure discard, else
# zero-fill, else a full overwrite); checked with wipefs afterwards.
do_wipe() {
  mode=${T_MODE:-quick}
  n=0
  for d in $(disks); do
    if [ "$mode" = secure ]; then
      # The device erases (secure discard), else zero-fills (BLKZEROOUT: offloaded where the
      # device can, written otherwise), else we write the zeros. A plain discard is not enough:
      # many SSDs return the old data after TRIM. util-linux's blkdiscard by path: busybox's
      # shell runs its own applet of that name first, which knows neither -f nor -z.
      progress "secure wipe of /dev/$d: secure discard"
      if /usr/bin/blkdiscard -f -s "/dev/$d" 2>"$RUN/discard.err"; then
        how="secure discard"
      elif {
        progress "secure wipe of /dev/$d: zero-fill (no secure discard: $(tail -n 1 "$RUN/discard.err"))"
        /usr/bin/blkdiscard -f -z "/dev/$d" 2>"$RUN/discard.err"
      }; then
        how="zero-fill"
      else
        sectors=$(cat "/sys/block/$d/size" 2>/dev/null)
        [ -n "$sectors" ] || die "/dev/$d went away during the wipe (the device reset or was removed): $(tail -n 1 "$RUN/discard.err")"
        total=$((sectors / 2048))
        progress "secure wipe of /dev/$d: overwriting $total MiB with zeros ($(tail -n 1 "$RUN/discard.err"))"
        watch_writes "$d" $((total * 1048576)) &
        w=$!
        dd if=/dev/zero of="/dev/$d" bs=4M conv=fsync 2>/dev/null
        kill $w 2>/dev/null
        how="full overwrite"
      fi
      quick_wipe "$d"
    else
      progress "quick wipe of /dev/$d: signatures, first and last MiB"
      quick_wipe "$d"
      how="signatures + first/last MiB"
    fi
    left=$(wipefs -n "/dev/$d" 2>/dev/null | tail -n +2 | wc -l)
    [ "$left" = 0 ] || die "/dev/$d still has $left signatures after the wipe"
    event wipe.disk info "/dev/$d wiped ($how)" "{\"disk\":\"$d\",\"mode\":\"$mode\",\"how\":\"$how\"}"
    n=$((n + 1))
  done
  printf '{"mode":"%s","disks":%s}' "$mode" "$n" >"$RUN/result"
  printf '%s' "$n disks wiped ($mode)" >"$RUN/message"
}
