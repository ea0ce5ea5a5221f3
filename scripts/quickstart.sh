#!/bin/sh
# Quick start: installs what Ingot needs on Debian 12 (as root) and runs a region.
#   ./scripts/quickstart.sh [ingot serve options]
set -eu
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  # Debian's npm only bootstraps: the project brings its own Node 24 (npm package `node`).
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
sh scripts/install-system-packages.sh
# `npm install`, not `npm ci`: lock files here carry no registry addresses
# (omit-lockfile-registry-resolved), and npm then leaves other platforms' optional packages out
# of the lock, which `npm ci` refuses. `npm install` still installs the locked versions.
npm install --no-audit --no-fund
exec npm start -- "$@"
