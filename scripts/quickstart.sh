#!/bin/sh
# Quick start: installs what Ingot needs on Debian 12 (as root; scripts/install.sh) and runs a
# region (`ingot serve`, data in ./.ingot, the web console at http://127.0.0.1:8080/).
#   ./scripts/quickstart.sh [ingot serve options]
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec bin/ingot serve "$@"
