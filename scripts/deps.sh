#!/usr/bin/env bash
# Install what a task needs, when missing. Usage: deps.sh [run|test|bench]
#   run:   npm packages (to build the web UI)
#   test:  + Debian's chromium (browser tests)
#   bench: + wrk (HTTP load)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
need=()
case $mode in
  test) command -v chromium >/dev/null || need+=(chromium) ;;
  bench) command -v wrk >/dev/null || need+=(wrk) ;;
esac
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "deps: npm ci" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
