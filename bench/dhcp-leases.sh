#!/bin/bash
# DHCP leases/s of Ingot's DHCP server (bench/dhcp-server.ts, every lease committed before its
# ACK), measured with ISC perfdhcp in relay mode between two network namespaces this script
# creates and deletes; the offered rate steps up until DISCOVER-OFFER or REQUEST-ACK drops exceed
# MAX_DROP percent (ISC's method). The server starts with an empty store for every rate.
# Root; needs perfdhcp (Debian: kea-admin). Touches no interface of the root namespace.
#   bench/dhcp-leases.sh [RATE,RATE,...]   (default 4000,6000,8000,10000,12000)
# Environment: PERIOD (s per rate, 10), CLIENTS (60000), MAX_DROP (2.5),
#   PERFDHCP_ARGS (extra perfdhcp arguments, e.g. "-g single"), DATABASE (postgres://… for PostgreSQL).
set -euo pipefail
export LC_ALL=C
RATES=${1:-4000,6000,8000,10000,12000}
PERIOD=${PERIOD:-10} CLIENTS=${CLIENTS:-60000} MAX_DROP=${MAX_DROP:-2.5} PERFDHCP_ARGS=${PERFDHCP_ARGS:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE=$ROOT/node_modules/.bin/node
command -v perfdhcp >/dev/null || { echo "dhcp-leases: perfdhcp is missing (apt-get install kea-admin)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "dhcp-leases: needs root (network namespaces)" >&2; exit 2; }

SRV_NS=ingdsrv$$ CLI_NS=ingdcli$$ SRV_ADDR=10.234.0.1 CLI_ADDR=10.234.0.2
SCRATCH=$(mktemp -d) SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
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

echo "dhcp-leases: perfdhcp relay mode $CLI_ADDR -> $SRV_ADDR, ${PERIOD}s per rate, $CLIENTS clients, max drop $MAX_DROP%"
printf '%10s %11s %10s %10s  %s\n' offered/s achieved/s 'DO drop %' 'RA drop %' verdict
best=0
for rate in ${RATES//,/ }; do
  wd=$SCRATCH/$rate && mkdir -p "$wd"
  ip netns exec "$SRV_NS" env SRV_ADDR=$SRV_ADDR SUBNET=10.234.0.0/16 POOL_START=10.234.1.0 \
    POOL_END=10.234.255.254 VALID_LIFETIME=3600 WORKDIR="$wd" ${DATABASE:+DATABASE=$DATABASE} \
    "$NODE" "$ROOT/bench/dhcp-server.ts" >"$wd/server.out" 2>"$wd/server.err" &
  SERVER_PID=$!
  for _ in $(seq 300); do grep -q '^ready' "$wd/server.out" && break; sleep 0.1; done
  grep -q '^ready' "$wd/server.out" || { echo "dhcp-leases: the server did not start:" >&2; cat "$wd/server.err" >&2; exit 1; }
  # shellcheck disable=SC2086  # PERFDHCP_ARGS is split on purpose
  timeout -k 5 $((PERIOD + 60)) ip netns exec "$CLI_NS" perfdhcp -4 -l "$CLI_ADDR" -r "$rate" \
    -R "$CLIENTS" -p "$PERIOD" $PERFDHCP_ARGS "$SRV_ADDR" >"$wd/perfdhcp.txt" 2>&1 || true
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  read -r achieved do_drop ra_drop < <(awk '
    /^Rate: / { rate = $2 }
    /^\*\*\*Statistics for: DISCOVER-OFFER/ { sec = "do" }
    /^\*\*\*Statistics for: REQUEST-ACK/ { sec = "ra" }
    /^sent packets:/ && sec != "" { sent[sec] = $3 }
    /^drops:/ && sec != "" { drops[sec] = $2 }
    END {
      printf "%s %.2f %.2f\n", (rate == "" ? 0 : rate),
        (sent["do"] > 0 ? 100 * drops["do"] / sent["do"] : 100), (sent["ra"] > 0 ? 100 * drops["ra"] / sent["ra"] : 100)
    }' "$wd/perfdhcp.txt")
  verdict=ok
  awk -v a="$do_drop" -v b="$ra_drop" -v m="$MAX_DROP" 'BEGIN { exit !(a > m || b > m) }' && verdict=DROPS
  printf '%10s %11s %10s %10s  %s\n' "$rate" "$achieved" "$do_drop" "$ra_drop" "$verdict"
  [ "$verdict" = ok ] || break
  best=$achieved
done
echo "best: ingot=$best/s"
