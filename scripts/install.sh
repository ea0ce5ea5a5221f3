#!/bin/sh
# Installs what Ingot needs on Debian 12 (as root), without starting anything: Debian's npm if
# there is none, the Debian packages of scripts/system-packages.txt, then the npm dependencies
# (Node 24 comes as the npm package `node`). npm's `prepare` builds the web console (ui/dist).
# The quick start and CI both install through this script.
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
# .npmrc keeps npm to errors: under Debian's Node 20 it would warn EBADENGINE for every package
# that wants a newer Node, though everything here runs on the project's Node 24.
npm install --no-audit --no-fund
