#!/bin/bash
# DHCP leases/s of Ingot's DHCP server (bench/dhcp-server.ts, every lease committed before its
# ACK) side by side with Kea 2.2 (memfile, persisted) and dnsmasq (lease file), measured with ISC
# perfdhcp in relay mode between two network namespaces this script creates and deletes. For
# each server the offered rate steps up until DISCOVER-OFFER or REQUEST-ACK drops exceed
# MAX_DROP percent (ISC's method); every server starts with an empty lease store for every rate.
# RUNS rounds, the servers' order rotating every round (interleaved, so a load change on the
# machine hits all of them); then min/median/max per server and Ingot/Kea per round.
# Then the DORA latency: every server at LAT_PCT% of Kea's median peak, perfdhcp -x t,
# p50/p99 (bench/dhcp-latency.ts). A peer that is not installed is skipped with a message.
# Root; needs perfdhcp (Debian: kea-admin), optionally kea-dhcp4 (kea-dhcp4-server), dnsmasq.
# Touches no interface of the root namespace.
#   bench/dhcp-leases.sh                       (everything, defaults below)
# Environment: RUNS (3), SERVERS (kea,ingot,dnsmasq), RATES (8000,…,40000 step 2000),
#   DNSMASQ_RATES (100,200,300,400,500), PERIOD (s per rate, 10), CLIENTS (60000),
#   MAX_DROP (2.5), PERFDHCP_ARGS ("-g single": perfdhcp's default mode busy-polls ~1.3 cores),
#   LAT_PCT (80; 0 skips the latency step), LAT_RUNS (3), LAT_RATE (a fixed latency rate instead
#   of LAT_PCT% of Kea's peak; with RUNS=0 only the latency step runs), DATABASE (postgres://…).
set -euo pipefail
export LC_ALL=C
export PATH=/usr/sbin:/usr/bin:$PATH
RUNS=${RUNS:-3} SERVERS=${SERVERS:-kea,ingot,dnsmasq}
RATES=${RATES:-$(seq -s, 8000 2000 40000)} DNSMASQ_RATES=${DNSMASQ_RATES:-100,200,300,400,500}
PERIOD=${PERIOD:-10} CLIENTS=${CLIENTS:-60000} MAX_DROP=${MAX_DROP:-2.5}
PERFDHCP_ARGS=${PERFDHCP_ARGS--g single} LAT_PCT=${LAT_PCT:-80} LAT_RUNS=${LAT_RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE=$ROOT/node_modules/.bin/node
say() { echo "dhcp-leases: $*" >&2; }
command -v perfdhcp >/dev/null || { say "perfdhcp is missing (apt-get install kea-admin)"; exit 2; }
[ "$(id -u)" = 0 ] || { say "needs root (network namespaces)"; exit 2; }

# The servers that can run here; a missing peer is said once and left out.
LIST=()
for s in ${SERVERS//,/ }; do
  case $s in
    ingot) LIST+=(ingot) ;;
    kea) if command -v kea-dhcp4 >/dev/null; then LIST+=(kea); else say "kea-dhcp4 is missing (apt-get install kea-dhcp4-server): skipping Kea"; fi ;;
    dnsmasq) if command -v dnsmasq >/dev/null; then LIST+=(dnsmasq); else say "dnsmasq is missing (apt-get install dnsmasq): skipping dnsmasq"; fi ;;
    *) say "unknown server '$s' (ingot, kea, dnsmasq)"; exit 2 ;;
  esac
done

SRV_NS=ingdsrv$$ CLI_NS=ingdcli$$ SRV_ADDR=10.234.0.1 CLI_ADDR=10.234.0.2
SUBNET=10.234.0.0/16 NETMASK=255.255.0.0 POOL_START=10.234.1.0 POOL_END=10.234.255.254 LIFETIME=3600
PROBE_MAC=02:00:00:00:db:01
SCRATCH=$(mktemp -d) SERVER_PID=
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
cleanup() {
  stop_server
  for ns in "$SRV_NS" "$CLI_NS"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$SRV_NS"
ip netns add "$CLI_NS"
ip -n "$SRV_NS" link add srv0 type veth peer name cli0 netns "$CLI_NS"
ip -n "$SRV_NS" addr add "$SRV_ADDR/16" dev srv0
ip -n "$CLI_NS" addr add "$CLI_ADDR/16" dev cli0
for ns in "$SRV_NS" "$CLI_NS"; do ip -n "$ns" link set lo up; done
ip -n "$SRV_NS" link set srv0 up
ip -n "$CLI_NS" link set cli0 up

version() {
  case $1 in
    ingot) echo "ingot $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), node $("$NODE" -v)" ;;
    kea) echo "kea-dhcp4 $(kea-dhcp4 -v 2>/dev/null | head -1)" ;;
    dnsmasq) dnsmasq --version 2>/dev/null | head -1 | sed 's/ *Copyright.*//' ;;
  esac
}

# start SERVER WORKDIR: starts it in the server namespace with an empty store, waits for it.
start_server() {
  local s=$1 wd=$2
  case $s in
    ingot)
      ip netns exec "$SRV_NS" env SRV_ADDR=$SRV_ADDR SUBNET=$SUBNET POOL_START=$POOL_START \
        POOL_END=$POOL_END VALID_LIFETIME=$LIFETIME WORKDIR="$wd" ${DATABASE:+DATABASE=$DATABASE} \
        "$NODE" "$ROOT/bench/dhcp-server.ts" >"$wd/server.out" 2>"$wd/server.err" &
      ;;
    kea)
      cat >"$wd/kea-dhcp4.json" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "srv0" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "lfc-interval": 0, "name": "$wd/kea-leases4.csv" },
  "valid-lifetime": $LIFETIME,
  "subnet4": [ { "id": 1, "subnet": "$SUBNET", "pools": [ { "pool": "$POOL_START - $POOL_END" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "stdout" } ] } ] } }
EOF
      KEA_LOCKFILE_DIR=$wd KEA_PIDFILE_DIR=$wd ip netns exec "$SRV_NS" kea-dhcp4 -c "$wd/kea-dhcp4.json" \
        >"$wd/server.out" 2>"$wd/server.err" &
      ;;
    dnsmasq)
      ip netns exec "$SRV_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
        --group=root --interface=srv0 --pid-file="$wd/dnsmasq.pid" --dhcp-leasefile="$wd/dnsmasq.leases" \
        --dhcp-range="$POOL_START,$POOL_END,$NETMASK,$LIFETIME" --dhcp-lease-max=70000 --no-ping \
        --quiet-dhcp --log-facility=- >"$wd/server.out" 2>"$wd/server.err" &
      ;;
  esac
  SERVER_PID=$!
  # Ready = it answered one relayed DORA (the probe's MAC is outside perfdhcp's range).
  for _ in $(seq 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    if timeout -k 2 10 ip netns exec "$CLI_NS" perfdhcp -4 -l "$CLI_ADDR" -b "mac=$PROBE_MAC" -R 1 -r 10 -p 1 \
      "$SRV_ADDR" >"$wd/probe.txt" 2>&1 || [ $? = 3 ]; then
      awk '/REQUEST-ACK/ { s = 1 } s && /^received packets:/ { ok = $3 > 0 } END { exit !ok }' "$wd/probe.txt" && return 0
    fi
    sleep 0.2
  done
  say "$s did not answer a relayed DORA:"; tail -n 20 "$wd/server.err" "$wd/server.out" >&2
  exit 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# measure SERVER RATE TAG [perfdhcp args]: one period; sets ACH DOP RAP SRVCPU LOAD.
measure() {
  local s=$1 rate=$2 tag=$3; shift 3
  local wd=$SCRATCH/$tag c0 c1 t0 t1 pid
  mkdir -p "$wd"
  start_server "$s" "$wd"
  # The server's own process (ip netns exec execs it, so SERVER_PID is the server).
  pid=$SERVER_PID
  c0=$(cpu_ticks "$pid") t0=$EPOCHREALTIME
  # shellcheck disable=SC2086  # PERFDHCP_ARGS is split on purpose
  timeout -k 5 $((PERIOD + 60)) ip netns exec "$CLI_NS" perfdhcp -4 -l "$CLI_ADDR" -r "$rate" \
    -R "$CLIENTS" -p "$PERIOD" $PERFDHCP_ARGS "$@" "$SRV_ADDR" >"$wd/perfdhcp.txt" 2>&1 || true
  c1=$(cpu_ticks "$pid") t1=$EPOCHREALTIME
  LOAD=$(cut -d' ' -f1 /proc/loadavg)
  stop_server
  SRVCPU=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 100 * c / hz / (b - a) }')
  read -r ACH DOP RAP < <(awk '
    /^Rate: / { rate = $2 }
    /^\*\*\*Statistics for: DISCOVER-OFFER/ { sec = "do" }
    /^\*\*\*Statistics for: REQUEST-ACK/ { sec = "ra" }
    /^\*\*\*Timestamps/ { sec = "" }
    /^sent packets:/ && sec != "" { sent[sec] = $3 }
    /^drops:/ && sec != "" { drops[sec] = $2 }
    END {
      printf "%.1f %.2f %.2f\n", (rate == "" ? 0 : rate),
        (sent["do"] > 0 ? 100 * drops["do"] / sent["do"] : 100), (sent["ra"] > 0 ? 100 * drops["ra"] / sent["ra"] : 100)
    }' "$wd/perfdhcp.txt")
}

median() { tr ' ' '\n' | awk NF | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minmax() { tr ' ' '\n' | awk NF | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s %s\n", (NR ? lo : "-"), (NR ? hi : "-") }'; }

echo "dhcp-leases: $(date -u '+%F %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dhcp-leases: perfdhcp $(perfdhcp -v 2>&1 | awk '/VERSION/ { print $2 }') relay mode $CLI_ADDR -> $SRV_ADDR," \
  "${PERIOD}s per rate, $CLIENTS clients, max drop $MAX_DROP%, perfdhcp args: ${PERFDHCP_ARGS:-none}"
for s in "${LIST[@]}"; do echo "dhcp-leases: $s = $(version "$s")"; done
declare -A BEST=()
n=${#LIST[@]}
for run in $(seq "$RUNS"); do
  for k in $(seq 0 $((n - 1))); do
    s=${LIST[$(((k + run - 1) % n))]}
    rates=$RATES; [ "$s" = dnsmasq ] && rates=$DNSMASQ_RATES
    echo
    echo "== round $run: $s"
    printf '%10s %11s %10s %10s %9s %6s  %s\n' offered/s achieved/s 'DO drop %' 'RA drop %' 'srv CPU%' load verdict
    best=0
    for rate in ${rates//,/ }; do
      measure "$s" "$rate" "$run-$s-$rate"
      verdict=ok
      awk -v a="$DOP" -v b="$RAP" -v m="$MAX_DROP" 'BEGIN { exit !(a > m || b > m) }' && verdict=DROPS
      printf '%10s %11s %10s %10s %9s %6s  %s\n' "$rate" "$ACH" "$DOP" "$RAP" "$SRVCPU" "$LOAD" "$verdict"
      [ "$verdict" = ok ] || break
      best=$ACH
    done
    echo "best: $s=$best/s"
    BEST[$s]="${BEST[$s]:-} $best"
    BEST[$s-$run]=$best
  done
done

echo
echo "== summary over $RUNS rounds (best achieved leases/s with <= $MAX_DROP% drops)"
for s in "${LIST[@]}"; do
  read -r lo hi < <(echo "${BEST[$s]:-}" | minmax)
  echo "$s: min $lo median $(echo "${BEST[$s]:-}" | median) max $hi  (rounds:${BEST[$s]:-})"
done
if [ -n "${BEST[kea]:-}" ] && [ -n "${BEST[ingot]:-}" ]; then
  # A round where Kea held no rate at all (drops even at the lowest) has no ratio: "-".
  ratios=$(for run in $(seq "$RUNS"); do awk -v i="${BEST[ingot-$run]}" -v k="${BEST[kea-$run]}" 'BEGIN { if (k > 0) printf "%.2f ", i / k; else printf "- " }'; done)
  read -r lo hi < <(echo "${ratios//-/}" | minmax)
  echo "ingot/kea per round: $ratios-> min $lo median $(echo "${ratios//-/}" | median) max $hi"
fi

# DORA latency at LAT_PCT% of Kea's median peak (Ingot's when Kea is skipped).
[ "$LAT_PCT" -gt 0 ] || exit 0
ref=kea; [ -n "${BEST[kea]:-}" ] || ref=ingot
peak=$(echo "${BEST[$ref]:-}" | median)
if [ -n "${LAT_RATE:-}" ]; then
  lat_rate=$LAT_RATE why="fixed by LAT_RATE"
else
  lat_rate=$(awk -v p="$peak" -v f="$LAT_PCT" 'BEGIN { printf "%d", p * f / 100 / 100 + 0.5 }')00
  why="$LAT_PCT% of $ref's median peak $peak/s"
fi
[ "$lat_rate" -gt 0 ] || { say "no peak rate to take $LAT_PCT% of: skipping latency (set LAT_RATE)"; exit 0; }
echo
echo "== DORA latency at $lat_rate/s ($why), $LAT_RUNS runs each, interleaved"
printf '%-8s %4s %11s %8s %8s %8s %8s %9s %9s %6s\n' server run achieved/s 'DO p50' 'DO p99' 'RA p50' 'RA p99' 'DORA p50' 'DORA p99' load
declare -A P99=()
for run in $(seq "$LAT_RUNS"); do
  for s in "${LIST[@]}"; do
    [ "$s" != dnsmasq ] || continue # a few hundred leases/s: nowhere near this rate
    measure "$s" "$lat_rate" "lat-$run-$s" -x t
    read -r dp50 dp99 rp50 rp99 p50 p99 _ < <("$NODE" "$ROOT/bench/dhcp-latency.ts" "$SCRATCH/lat-$run-$s/perfdhcp.txt")
    printf '%-8s %4s %11s %8s %8s %8s %8s %9s %9s %6s\n' "$s" "$run" "$ACH" "$dp50" "$dp99" "$rp50" "$rp99" "$p50" "$p99" "$LOAD"
    P99[$s]="${P99[$s]:-} $p99"
  done
done
for s in "${!P99[@]}"; do echo "$s: DORA p99 median $(echo "${P99[$s]}" | median) ms (runs:${P99[$s]})"; done
