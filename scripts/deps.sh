#!/usr/bin/env bash
# Install what a task needs, when missing. Usage: deps.sh [run|test|bench]
#   run:   npm packages (to build the web UI)
#   test:  + Debian's chromium (browser tests), gdal-bin (ogrinfo: the OGC API test),
#          mosquitto-clients (mosquitto_pub: the sensors' MQTT test),
#          poppler-utils + poppler-data (pdftotext with the Adobe CJK maps: the PDF report tests)
#   bench: + wrk (HTTP load), PostGIS for the running PostgreSQL (geo benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
need=()
# postgis_package: Debian's PostGIS package for the local PostgreSQL major
# version, when the server on 127.0.0.1 (or any local install) lacks it.
postgis_package() {
  command -v psql >/dev/null || return 0
  local have
  have=$(PGCONNECT_TIMEOUT=3 psql -X -w -h 127.0.0.1 -U postgres -d test -Atc "select 1 from pg_available_extensions where name='postgis'" 2>/dev/null || true)
  [ "$have" = 1 ] && return 0
  local major
  major=$(psql --version | sed -n 's/^psql (PostgreSQL) \([0-9][0-9]*\).*/\1/p')
  [ -n "$major" ] || major=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$major" ]; then echo "postgresql-$major-postgis-3"; fi
}
case $mode in
  test)
    command -v chromium >/dev/null || need+=(chromium)
    command -v ogrinfo >/dev/null || need+=(gdal-bin)
    command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
    { command -v pdftotext >/dev/null && [ -d /usr/share/poppler/cMap ]; } || need+=(poppler-utils poppler-data)
    ;;
  bench)
    command -v wrk >/dev/null || need+=(wrk)
    pg=$(postgis_package); [ -z "$pg" ] || need+=("$pg")
    ;;
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
