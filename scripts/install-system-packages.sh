#!/bin/sh
# Installs the Debian packages listed in scripts/system-packages.txt (needs root).
# Daemons are not started: the tests start what they need on loopback.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^\s*#' "$here/system-packages.txt" | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install these Debian packages as root first:$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
