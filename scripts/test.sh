#!/usr/bin/env bash
# The whole test suite, as CI runs it (`make test`): lint, Go tests against
# SQLite and a real PostgreSQL and NATS, web unit tests, and browser
# end-to-end tests in Debian's Chromium against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
cleanup() {
  if [ -d "$work/pg/data" ]; then
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl -D $work/pg/data stop -m fast" >/dev/null 2>&1 || true
    else pg_ctl -D "$work/pg/data" stop -m fast >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/deps.sh test

echo "== web: build and unit tests"
(cd web && npm test)
bash scripts/build-web.sh

echo "== lint"
bash scripts/lint.sh

SHUZHI_TEST_PG=$(bash scripts/ensure-postgres.sh "$work/pg")
export SHUZHI_TEST_PG
echo "== go test (PostgreSQL: ${SHUZHI_TEST_PG%%\?*})"
go test -count=1 -p 2 ./...

echo "== browser end-to-end tests"
go build -o "$work/shuzhi" ./cmd/shuzhi
bash web/e2e/run.sh "$work/shuzhi"
