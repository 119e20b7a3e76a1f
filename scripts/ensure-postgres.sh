#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the test suite and print the DSN
# to use (for SHUZHI_TEST_PG). Uses 127.0.0.1:5432 when it answers (trust
# auth, user postgres, database test); otherwise installs Debian's postgresql
# if missing and starts a throwaway cluster on a free port under $1 (a
# directory the caller removes), owned by the postgres user.
set -euo pipefail
dir=${1:?usage: ensure-postgres.sh WORKDIR}
log() { echo "ensure-postgres: $*" >&2; }

if [ -n "${SHUZHI_TEST_PG:-}" ]; then echo "$SHUZHI_TEST_PG"; exit 0; fi
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -t 3 &&
   psql -X -q -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"; exit 0
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  log "no PostgreSQL server here: installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir"
run() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run "$bindir/initdb -D '$dir/data' -U postgres -A trust >'$dir/initdb.log' 2>&1"
run "$bindir/pg_ctl -D '$dir/data' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l '$dir/server.log' -w start" >&2
log "started a throwaway cluster on 127.0.0.1:$port (stop: pg_ctl -D $dir/data stop)"
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
