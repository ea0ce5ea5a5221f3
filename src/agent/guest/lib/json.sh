# shellcheck shell=sh disable=SC2154,SC3043  # sourced by ingot-agent: T_* come from the task; busybox ash has local
# JSON for the reports, without a JSON tool: string literals, a file's tail, numbers.
# jstr STRING: a JSON string literal.
jstr() {
  # Backslashes are doubled by sed: what "\\\\" means in an awk gsub replacement differs
  # between mawk, gawk and busybox (mawk left them single, and a log with one broke the report).
  printf '%s' "$1" | sed 's/\\/\\\\/g' | awk 'BEGIN { ORS = ""; printf "\"" }
    { gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, ""); gsub(/[\001-\037]/, "");
      if (NR > 1) printf "\\n"; printf "%s", $0 }
    END { printf "\"" }'
}
# jfile FILE: the last 64 KiB of a file as a JSON string literal.
jfile() { if [ -f "$1" ]; then jstr "$(tail -c 65536 "$1")"; else printf '""'; fi; }
# jnum VALUE: VALUE if it is a non-negative integer, else null.
jnum() { case "$1" in '' | *[!0-9]*) printf null ;; *) printf '%s' "$1" ;; esac; }
trim() { printf '%s' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }
