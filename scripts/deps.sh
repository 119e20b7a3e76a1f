#!/usr/bin/env bash
# Install what the build and the tests need, when missing: npm packages,
# Debian's chromium (browser tests) and wrk (benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null || need+=(chromium)
[ "${1:-}" = bench ] && { command -v wrk >/dev/null || need+=(wrk); }
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
