# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# Task inventory: DMI, CPUs, memory (from the DIMMs), disks with SMART health and smartctl's JSON, NICs and LLDP
# neighbours; the result is the machine's hardware (src/core/agent-protocol.ts InventoryResult).
do_inventory() {
  progress "reading DMI, CPUs, memory, disks, NICs"
  dmi=
  for k in sys_vendor product_name product_serial product_uuid product_version board_vendor board_name \
    board_serial chassis_type chassis_serial bios_vendor bios_version bios_date; do
    v=$(cat "/sys/class/dmi/id/$k" 2>/dev/null)
    [ -n "$v" ] && dmi="$dmi${dmi:+,}\"$k\":$(jstr "$(trim "$v")")"
  done
  model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  threads=$(grep -c '^processor' /proc/cpuinfo)
  cores=$(awk -F: '/^physical id/ { p = $2 } /^core id/ { print p ":" $2 }' /proc/cpuinfo | sort -u | wc -l)
  [ "$cores" -gt 0 ] || cores=$threads
  sockets=$(grep '^physical id' /proc/cpuinfo | sort -u | wc -l)
  # Installed memory from the DIMMs (SMBIOS type 17); MemTotal is what the kernel kept.
  memtotal=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
  mem=$(dmidecode -t 17 2>/dev/null | awk '$1 == "Size:" && $2 ~ /^[0-9]+$/ {
      n = $2; u = $3
      if (u == "kB" || u == "KB") n *= 1024; else if (u == "MB") n *= 1048576
      else if (u == "GB") n *= 1073741824; else if (u == "TB") n *= 1099511627776
      s += n } END { printf "%.0f", s }')
  [ "${mem:-0}" -gt 0 ] || mem=$memtotal
  progress "disks and SMART health"
  dj= sj=
  for d in $(disks); do
    size=$(($(cat "/sys/block/$d/size") * 512))
    rota=$(cat "/sys/block/$d/queue/rotational" 2>/dev/null || echo 0)
    m=$(trim "$(cat "/sys/block/$d/device/model" 2>/dev/null)")
    s=$(trim "$(cat "/sys/block/$d/device/serial" 2>/dev/null || cat "/sys/block/$d/serial" 2>/dev/null)")
    [ -n "$s" ] || s=$(trim "$(lsblk -dno SERIAL "/dev/$d" 2>/dev/null)")
    h=$(smart_health "$d")
    one="\"name\":\"$d\",\"sizeBytes\":$size,\"rotational\":$([ "$rota" = 1 ] && echo true || echo false)"
    [ -n "$m" ] && one="$one,\"model\":$(jstr "$m")"
    [ -n "$s" ] && one="$one,\"serial\":$(jstr "$s")"
    dj="$dj${dj:+,}{$one}"
    # smartctl's own JSON (info, health, attributes / NVMe health log): the region keeps each
    # disk's counters by serial (src/core/smartctl.ts). Only a JSON object is passed on.
    sc=$(smartctl --json -i -H -A "/dev/$d" 2>/dev/null)
    case "$sc" in
      "{"*) sj="$sj${sj:+,}{\"disk\":\"$d\",\"health\":\"$h\",\"smartctl\":$sc}" ;;
      *) sj="$sj${sj:+,}{\"disk\":\"$d\",\"health\":\"$h\"}" ;;
    esac
  done
  progress "NICs and LLDP neighbours"
  nj= lj=
  for n in $(nics); do
    mac=$(cat "/sys/class/net/$n/address")
    drv=$(basename "$(readlink "/sys/class/net/$n/device/driver")" 2>/dev/null)
    ip link set "$n" up 2>/dev/null
    speed=$(cat "/sys/class/net/$n/speed" 2>/dev/null)
    case "$speed" in '' | -* | *[!0-9]*) speed=$(ethtool "$n" 2>/dev/null | sed -n 's/^[[:space:]]*Speed: \([0-9]*\)Mb\/s/\1/p') ;; esac
    link=$(cat "/sys/class/net/$n/carrier" 2>/dev/null || echo 0)
    one="\"mac\":\"$mac\",\"name\":\"$n\",\"boot\":false"
    [ -n "$drv" ] && one="$one,\"driver\":\"$drv\""
    [ -n "$speed" ] && [ "$speed" -gt 0 ] 2>/dev/null && one="$one,\"speedMbps\":$speed"
    nj="$nj${nj:+,}{$one}"
    lj="$lj${lj:+,}{\"name\":\"$n\",\"mac\":\"$mac\",\"link\":$([ "$link" = 1 ] && echo true || echo false)}"
  done
  lldp=$(lldp_neighbours)
  cat >"$RUN/result" <<JSON
{"cpu":{"model":$(jstr "$model"),"cores":$cores,"threads":$threads},"memoryBytes":$mem,"disks":[$dj],"nics":[$nj],
"details":{"dmi":{$dmi},"sockets":$sockets,"memTotalBytes":$memtotal,"smart":[$sj],"links":[$lj],"lldp":[$lldp],
"kernel":$(jstr "$(uname -r)"),"agent":"ingot-agent/$AGENT_VERSION","image":$(jstr "$(cat /etc/ingot/image 2>/dev/null)")}}
JSON
  printf '%s' "$cores cores, $((mem / 1048576)) MiB, $(disks | wc -l) disks, $(nics | wc -l) NICs" >"$RUN/message"
}

# LLDP: one tcpdump per NIC, started at boot, catches the first LLDP frame (switches send one
# every 30 s). The inventory waits until T_LLDP_SECONDS (default 35) after boot, then reads them.
lldp_listen() {
  command -v tcpdump >/dev/null || return 0
  for n in $(nics); do
    ip link set "$n" up 2>/dev/null
    tcpdump -i "$n" -Z root -nn -vv -c 1 -s 1600 ether proto 0x88cc >"$RUN/lldp.$n" 2>/dev/null &
    echo $! >"$RUN/lldp.$n.pid"
  done
}
lldp_neighbours() {
  wait_s=${T_LLDP_SECONDS:-35}
  waited=$(($(cut -d. -f1 /proc/uptime) - LLDP_STARTED))
  [ "$waited" -lt "$wait_s" ] && sleep $((wait_s - waited))
  first=1
  for n in $(nics); do
    [ -f "$RUN/lldp.$n.pid" ] && kill "$(cat "$RUN/lldp.$n.pid")" 2>/dev/null
    [ -s "$RUN/lldp.$n" ] || continue
    one=$(awk -v ifc="$n" '
      function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
      function val(s) { sub(/^[^:]*: /, "", s); return s }
      /Chassis ID TLV/ { want = "chassisId"; next }
      /Port ID TLV/ { want = "portId"; next }
      want != "" && /Subtype/ { v[want] = val($0); want = ""; next }
      /Port Description TLV/ { v["portDescription"] = val($0) }
      /System Name TLV/ { v["systemName"] = val($0) }
      /System Description TLV/ { getline; v["systemDescription"] = $0; sub(/^[ \t]+/, "", v["systemDescription"]) }
      /port vlan id \(PVID\)/ { v["vlan"] = val($0) }
      END { for (k in v) got = 1; if (!got) exit; printf "{\"interface\":%s", q(ifc); for (k in v) printf ",\"%s\":%s", k, q(v[k]); printf "}" }
    ' "$RUN/lldp.$n")
    [ -n "$one" ] || continue
    [ $first = 1 ] || printf ','
    printf '%s' "$one"
    first=0
  done
}
