#!/usr/bin/env bash
# Performance figures behind docs/PERFORMANCE.md (`make bench`, which builds
# bin/shuzhi with -trimpath -s -w and installs wrk first).
#
# For SQLite and for PostgreSQL it measures: binary size; cold start to
# /readyz 200 on an empty data dir (migrations + demo district seeding) and
# warm start (second start on the same data); RSS at idle after one login;
# wrk throughput and latency of GET /healthz (baseline: no auth, no DB) and
# of GET /api/v1/users?pageSize=20 with a session cookie and with a bearer
# token. Then it runs the repository's Go benchmarks. The Markdown summary
# goes to stdout (and to $BENCH_OUT when set); progress goes to stderr.
#
# Settings (environment):
#   BIN=bin/shuzhi           binary to measure (built with the Makefile's flags when missing)
#   BENCH_BACKENDS="sqlite postgres"
#   BENCH_REPS=3             start-up repetitions (median reported)
#   BENCH_DURATION=15s       wrk duration per run (plus a 2 s unreported warm-up)
#   BENCH_THREADS=2 BENCH_CONNS=32   wrk -t / -c
#   BENCH_GO=1               0 skips the Go benchmarks
#   BENCH_PG=postgres://...  PostgreSQL server to create throwaway databases on
#                            (default: scripts/ensure-postgres.sh, i.e. 127.0.0.1:5432
#                            when it answers, else a throwaway cluster)
#   BENCH_EXCHANGE=50000     lookups per exchange figure
#   BENCH_EXCHANGE_RATES="5000 10000 15000"
#                            offered rates (per second) of the exchange's
#                            latency curve, beside the 20,000/s of the main
#                            run ("" skips it)
#   BENCH_OUT=FILE           also write the summary there
#   BENCH_COMMIT=abc1234     commit to report (default: git rev-parse --short HEAD)
#
# Every port is chosen by the kernel (--listen 127.0.0.1:0, MQTT on :0) and
# read back from the start-up banner, so no port is assumed free. Every
# process, temp directory and database created here is removed on exit,
# including on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/shuzhi}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
REPS=${BENCH_REPS:-3}
DURATION=${BENCH_DURATION:-15s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
GOBENCH=${BENCH_GO:-1}
OUT=${BENCH_OUT:-}
LOGIN='{"username":"staff","password":"Shuzhi@2026"}'
ORG=平江街道办事处

script_start=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/shuzhi-bench.XXXXXX")
pids=()     # servers still running
dbs=()      # PostgreSQL databases created here
pg_admin=   # DSN of the database used to create/drop them
pg_cluster= # throwaway cluster started by ensure-postgres.sh, if any

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  [ -z "${FG:-}" ] || kill -TERM "$FG" 2>/dev/null || true
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  if [ -n "$pg_admin" ]; then
    for d in "${dbs[@]}"; do
      psql -X -q "$pg_admin" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 ||
        log "could not drop database $d"
    done
  fi
  if [ -n "$pg_cluster" ] && [ -d "$pg_cluster/data" ]; then
    local bindir; bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$bindir/pg_ctl -D $pg_cluster/data stop -m fast" >/dev/null 2>&1 || true
    else "$bindir/pg_ctl" -D "$pg_cluster/data" stop -m fast >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in curl wrk awk; do command -v "$c" >/dev/null || die "$c is missing (make bench installs wrk via scripts/deps.sh bench)"; done
if [ ! -x "$BIN" ]; then
  log "$BIN missing: building it as make build does (without rebuilding the web UI)"
  go build -trimpath -ldflags "-s -w -X github.com/shuzhi-gov/shuzhi/internal/app.Version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o "$BIN" ./cmd/shuzhi
fi

HZ=$(getconf CLK_TCK)
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }          # utime+stime, clock ticks
machine_cpu() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; } # busy total
now_ms() { echo $(($(date +%s%N) / 1000000)); }

median() { # numbers as arguments
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%d\n", (a[NR/2]+a[NR/2+1])/2}'
}

# start_server NAME DATADIR [extra serve flags...]: starts bin/shuzhi serve
# --demo and waits for /readyz 200. Sets PID, ADDR, READY_MS (process
# start to first 200 seen by curl, polled every 10 ms), SELF_MS (the
# server's own "ready in"), SEED_MS (demo seeding, empty when not seeded).
start_server() {
  local name=$1 dir=$2; shift 2
  local out=$work/$name.log t0 code deadline
  t0=$(now_ms)
  "$BIN" serve --demo --data-dir "$dir" --listen 127.0.0.1:0 --mqtt-listen 127.0.0.1:0 \
    --log-level warn --shutdown-timeout 5s "$@" >"$out" 2>&1 &
  PID=$!
  pids+=("$PID")
  ADDR=
  deadline=$((t0 + 180000))
  while :; do
    if [ -z "$ADDR" ]; then
      ADDR=$(sed -n 's|.* listening on http://\([^ ]*\).*|\1|p' "$out" | head -1)
    fi
    if [ -n "$ADDR" ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADDR/readyz" || true)
      [ "$code" = 200 ] && break
    fi
    if ! kill -0 "$PID" 2>/dev/null; then
      tail -n 30 "$out" >&2
      die "server $name exited before it was ready"
    fi
    [ "$(now_ms)" -lt "$deadline" ] || { tail -n 30 "$out" >&2; die "server $name not ready after 180 s"; }
    sleep 0.01
  done
  READY_MS=$(($(now_ms) - t0))
  SELF_MS=$(sed -n 's/.*ready in \(.*\)$/\1/p' "$out" | head -1)
  SEED_MS=$(sed -n 's/.* seeded in \([^:]*\):.*/\1/p' "$out" | head -1)
}

# stop_server: SIGTERM and wait for the exit (graceful shutdown). Sets STOP_MS.
stop_server() {
  local t0 p=$PID rest=() x
  t0=$(now_ms)
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  STOP_MS=$(($(now_ms) - t0))
  for x in "${pids[@]}"; do [ "$x" = "$p" ] || rest+=("$x"); done
  pids=("${rest[@]}")
}

# to_ms VALUE: "707ms" / "1.2s" / "950µs" -> milliseconds (integer)
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%d\n", v + 0.5 }
    else if (v ~ /(µs|us)$/) { sub(/(µs|us)$/, "", v); printf "%d\n", v / 1000 + 0.5 }
    else if (v ~ /m[0-9.]+s$/) { split(v, a, "m"); sub(/s$/, "", a[2]); printf "%d\n", (a[1] * 60 + a[2]) * 1000 + 0.5 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%d\n", v * 1000 + 0.5 }
    else print "" }'
}

pg_setup() {
  if [ -n "${BENCH_PG:-}" ]; then pg_admin=$BENCH_PG
  else
    pg_admin=$(bash scripts/ensure-postgres.sh "$work/pg") || return 1
    [ -d "$work/pg/data" ] && pg_cluster=$work/pg
  fi
  psql -X -q "$pg_admin" -c 'select 1' >/dev/null
}

DB_DSN= # set by new_db
new_db() {
  local name base query
  name="shuzhi_bench_$$_$1"
  psql -X -q -v ON_ERROR_STOP=1 "$pg_admin" -c "CREATE DATABASE \"$name\"" >/dev/null
  dbs+=("$name")
  base=${pg_admin%%\?*}
  query=
  [ "$base" != "$pg_admin" ] && query="?${pg_admin#*\?}"
  DB_DSN="${base%/*}/$name$query"
}

# run_bg CMD...: runs CMD in the background and waits for it, so that a
# signal to this script is handled at once and cleanup can stop CMD.
FG=
run_bg() {
  "$@" &
  FG=$!
  local rc=0
  wait "$FG" || rc=$?
  FG=
  return "$rc"
}

# run_wrk LABEL URL [wrk -H args...]: appends a row to WRK_ROWS.
WRK_ROWS=() WRK_N=0
run_wrk() {
  local label=$1 url=$2; shift 2
  WRK_N=$((WRK_N + 1))
  local f=$work/wrk-$WRK_N.txt rps p50 p99 non2xx sockerr reqs s0 s1 m0 m1 t0 t1 srvcores busycores usreq
  run_bg wrk -t"$THREADS" -c"$CONNS" -d2s "$@" "$url" >/dev/null # warm-up, not reported
  log "  wrk $label ($DURATION)"
  s0=$(proc_cpu "$PID"); m0=$(machine_cpu); t0=$(now_ms)
  run_bg wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" >"$f"
  s1=$(proc_cpu "$PID"); m1=$(machine_cpu); t1=$(now_ms)
  rps=$(awk '/^Requests\/sec:/ {printf "%d", $2 + 0.5}' "$f")
  reqs=$(awk '/requests in/ {print $1}' "$f")
  p50=$(awk '$1 == "50%" {print $2}' "$f")
  p99=$(awk '$1 == "99%" {print $2}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f"); non2xx=${non2xx:-0}
  sockerr=$(sed -n 's/.*Socket errors: //p' "$f"); sockerr=${sockerr:-none}
  # CPU: the server's own (utime+stime) and the whole machine's busy time.
  srvcores=$(awk -v a="$s0" -v b="$s1" -v hz="$HZ" -v ms=$((t1 - t0)) 'BEGIN {printf "%.2f", (b - a) / hz / (ms / 1000)}')
  busycores=$(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" 'BEGIN {split(a, x); split(b, y); printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) * n}')
  usreq=$(awk -v a="$s0" -v b="$s1" -v hz="$HZ" -v r="$reqs" 'BEGIN {if (r > 0) printf "%d", (b - a) / hz * 1e6 / r; else print "–"}')
  WRK_ROWS+=("| $CUR_NAME | $label | $rps | $p50 | $p99 | $reqs | $non2xx | $sockerr | $srvcores | $usreq | $busycores |")
  RAW+=("### $CUR_NAME — $label" "" '```' "$(cat "$f")" '```' "")
}

START_ROWS=() MEM_ROWS=() RAW=() NOTES=()

bench_backend() {
  CUR=$1
  local dbargs=() cold=() warm=() coldself=() warmself=() seed=() stops=() dir i tok sess s code
  case $CUR in
    sqlite) CUR_NAME=SQLite ;;
    postgres)
      CUR_NAME=PostgreSQL
      if ! pg_setup; then NOTES+=("PostgreSQL: no server reachable, skipped."); log "PostgreSQL unavailable: skipped"; return 0; fi
      ;;
    *) die "unknown backend $CUR" ;;
  esac
  log "== $CUR_NAME: start-up ($REPS x cold + warm)"
  for i in $(seq "$REPS"); do
    dir=$work/data-$CUR-$i
    dbargs=()
    if [ "$CUR" = postgres ]; then new_db "$i"; dbargs=(--db "$DB_DSN"); fi
    start_server "$CUR-cold-$i" "$dir" "${dbargs[@]}"
    cold+=("$READY_MS"); coldself+=("$(to_ms "$SELF_MS")"); seed+=("$(to_ms "$SEED_MS")")
    [ -n "$SEED_MS" ] || die "$CUR_NAME cold start $i did not seed the demo district"
    stop_server; stops+=("$STOP_MS")
    start_server "$CUR-warm-$i" "$dir" "${dbargs[@]}"
    warm+=("$READY_MS"); warmself+=("$(to_ms "$SELF_MS")")
    [ -z "$SEED_MS" ] || die "$CUR_NAME warm start $i seeded again"
    stop_server; stops+=("$STOP_MS")
    log "  run $i: cold ${cold[-1]} ms (seeding ${seed[-1]} ms), warm ${warm[-1]} ms"
  done
  START_ROWS+=("| $CUR_NAME | empty data dir (migrate + seed demo) | $(median "${cold[@]}") | ${cold[*]} | $(median "${coldself[@]}") | $(median "${seed[@]}") |")
  START_ROWS+=("| $CUR_NAME | warm data dir (second start) | $(median "${warm[@]}") | ${warm[*]} | $(median "${warmself[@]}") | – |")
  STOP_ROWS+=("| $CUR_NAME | $(median "${stops[@]}") | ${stops[*]} |")

  # Load server: the last repetition's data (already seeded), a fresh token.
  tok=$("$BIN" token issue --data-dir "$dir" "${dbargs[@]}" --log-level warn --org "$ORG" --name bench \
    --scopes users:read,divisions:read 2>"$work/token-$CUR.log") || { cat "$work/token-$CUR.log" >&2; die "token issue"; }
  start_server "$CUR-load" "$dir" "${dbargs[@]}"
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$work/cookies-$CUR" -H 'Content-Type: application/json' \
    -d "$LOGIN" "http://$ADDR/api/v1/auth/login")
  [ "$code" = 200 ] || die "$CUR_NAME login returned $code"
  sess=$(awk '$6 == "shuzhi_session" {print $7}' "$work/cookies-$CUR")
  [ -n "$sess" ] || die "no session cookie"
  sleep 5
  local rss_idle; rss_idle=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
  for h in "Cookie: shuzhi_session=$sess" "Authorization: Bearer $tok"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$h" "http://$ADDR/api/v1/users?pageSize=20")
    [ "$code" = 200 ] || die "$CUR_NAME GET /api/v1/users with ${h%%:*} returned $code"
  done
  log "== $CUR_NAME: load (wrk -t$THREADS -c$CONNS -d$DURATION)"
  run_wrk "GET /healthz" "http://$ADDR/healthz"
  run_wrk "GET /api/v1/users?pageSize=20 (session cookie)" "http://$ADDR/api/v1/users?pageSize=20" -H "Cookie: shuzhi_session=$sess"
  run_wrk "GET /api/v1/auth/me (session cookie)" "http://$ADDR/api/v1/auth/me" -H "Cookie: shuzhi_session=$sess"
  run_wrk "GET /api/v1/users?pageSize=20 (bearer token)" "http://$ADDR/api/v1/users?pageSize=20" -H "Authorization: Bearer $tok"
  local rss_after hwm errs
  rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
  errs=$(grep -c 'level=ERROR' "$work/$CUR-load.log" || true)
  MEM_ROWS+=("| $CUR_NAME | $((rss_idle / 1024)) MiB ($rss_idle kB) | $((rss_after / 1024)) MiB | $((hwm / 1024)) MiB |")
  if [ "$errs" -gt 0 ]; then
    NOTES+=("$CUR_NAME load server logged $errs ERROR lines, e.g.: \`$(grep -m1 'level=ERROR' "$work/$CUR-load.log" | cut -c1-220)\`")
  fi
  stop_server
}

STOP_ROWS=()
size=$(stat -c %s "$BIN")
for b in $BACKENDS; do bench_backend "$b"; done

# Go benchmarks. A failure (e.g. a package that does not compile) is shown
# in the summary and makes the script exit 1, after the figures are printed.
GO_SMOKE= GO_REAL= GO_GEO= GO_BASE= GO_FAIL=0
if [ "$GOBENCH" = 1 ]; then
  log "== go benchmarks: smoke (-benchtime 1x ./...)"
  if ! GO_SMOKE=$(SHUZHI_BENCH_IMPORT_ROWS=10000 go test -run '^$' -bench . -benchtime 1x ./... 2>&1); then
    GO_FAIL=1; NOTES+=("The Go benchmark smoke run FAILED (output below)."); log "go benchmark smoke failed"
  fi
  GO_SMOKE=$(printf '%s\n' "$GO_SMOKE" | grep -v 'no test files' || true)
  log "== go benchmarks: crypto and demo district"
  if ! GO_REAL=$(go test -run '^$' -bench . -benchmem ./internal/platform/crypto/ ./internal/demo/district/ 2>&1); then
    GO_FAIL=1; NOTES+=("The crypto / demo district Go benchmarks FAILED (output below)."); log "go benchmarks failed"
  fi
  log "== go benchmarks: point-to-grid lookups (in-process index vs PostGIS)"
  if ! GO_GEO=$(SHUZHI_TEST_PG=${pg_admin:-${SHUZHI_TEST_PG:-}} go test -run '^$' -bench 'Locate|PostGIS' -benchmem ./internal/geo/ 2>&1); then
    GO_FAIL=1; NOTES+=("The point-to-grid (geo) Go benchmarks FAILED (output below)."); log "geo benchmarks failed"
  fi
  log "== go benchmarks: base data (import of 1,000,000 people, masked lookups over HTTP, demo seeding)"
  if ! GO_BASE=$(go test -run '^$' -bench 'ImportPeople' -benchtime 1x -timeout 30m ./internal/app/ 2>&1 | grep -v 'level=' &&
    go test -run '^$' -bench 'MaskedLookup' -benchtime 20000x ./internal/app/ 2>&1 | grep -v 'level=' &&
    go test -run '^$' -bench 'Seed' -benchtime 1x ./internal/demo/ 2>&1); then
    GO_FAIL=1; NOTES+=("The base data Go benchmarks FAILED (output below)."); log "base data benchmarks failed"
  fi
  log "== go benchmarks: cases (Open311 POST path, classifier)"
  if ! GO_CASES=$(SHUZHI_TEST_PG=${pg_admin:-${SHUZHI_TEST_PG:-}} go test -run '^$' -bench 'Open311Post' -benchtime "${BENCH_CASES:-20000}x" -timeout 30m ./internal/app/ 2>&1 | grep -v 'level=' &&
    go test -run '^$' -bench 'HeldOut|Predict' ./internal/cases/classify/ 2>&1); then
    GO_FAIL=1; NOTES+=("The cases Go benchmarks FAILED (output below)."); log "cases benchmarks failed"
  fi
  log "== go benchmarks: exchange (governed single-key lookups vs plain reads, quality rules; the cores' own stalls first)"
  if ! GO_EXCHANGE=$(go test -run '^$' -bench CoreStalls -benchtime 1000x ./bench/machine/ 2>&1 &&
    SHUZHI_TEST_PG=${pg_admin:-${SHUZHI_TEST_PG:-}} go test -run '^$' -bench 'ExchangeLookup' -benchtime "${BENCH_EXCHANGE:-50000}x" -timeout 30m ./internal/app/ 2>&1 | grep -v 'level=' &&
    go test -run '^$' -bench 'Evaluate' ./internal/exchange/quality/ 2>&1); then
    GO_FAIL=1; NOTES+=("The exchange Go benchmarks FAILED (output below)."); log "exchange benchmarks failed"
  fi
  # The latency curve: the plain read and the governed lookup offered at
  # lower rates, to show where each setup's p99 stands below saturation.
  GO_CURVE=
  for rate in ${BENCH_EXCHANGE_RATES-5000 10000 15000}; do
    log "== go benchmarks: exchange at $rate lookups/s offered"
    if ! out=$(SHUZHI_BENCH_RATE=$rate SHUZHI_TEST_PG=${pg_admin:-${SHUZHI_TEST_PG:-}} go test -run '^$' \
      -bench 'ExchangeLookup/.*/^(plain|governed)-at-rate$' -benchtime "${BENCH_EXCHANGE:-50000}x" -timeout 30m ./internal/app/ 2>&1 | grep -v 'level='); then
      GO_FAIL=1; NOTES+=("The exchange latency curve at $rate/s FAILED (output below)."); log "exchange curve failed"
    fi
    GO_CURVE+="# offered $rate/s"$'\n'"$out"$'\n'
  done
fi

# bench_table: Go benchmark lines -> Markdown table.
bench_table() {
  echo "| Benchmark | ns/op | MB/s | B/op | allocs/op |"
  echo "|---|--:|--:|--:|--:|"
  awk '/^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
    ns = mbs = bop = al = "–"
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/op") ns = $i
      if ($(i+1) == "MB/s") mbs = $i
      if ($(i+1) == "B/op") bop = $i
      if ($(i+1) == "allocs/op") al = $i
    }
    printf "| %s | %s | %s | %s | %s |\n", name, ns, mbs, bop, al }'
}

summary() {
  echo "## Results"
  echo
  local commit=${BENCH_COMMIT:-}
  if [ -z "$commit" ]; then
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet HEAD -- . ':!scripts/bench.sh' 2>/dev/null &&
      commit="$commit (working tree has local changes)"
  fi
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit"
  echo "- Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; $(go version 2>/dev/null | awk '{print $3}'); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "- Load average (1/5/15 min) at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Server: \`$("$BIN" version 2>/dev/null | head -1)\`, \`serve --demo --log-level warn\`, embedded NATS; wrk and the server share the same cores"
  echo
  echo "### Binary"
  echo
  echo "| File | Bytes | MiB |"
  echo "|---|--:|--:|"
  echo "| $BIN | $size | $(awk -v s="$size" 'BEGIN {printf "%.1f", s/1048576}') |"
  echo
  echo "### Start-up to /readyz 200 (median of $REPS)"
  echo
  echo "Process start to the first 200 from /readyz as seen by curl polling every 10 ms; \"self-reported\" is the server's own \"ready in\" line."
  echo
  echo "| Backend | Data | Median ms | Runs ms | Self-reported ms (median) | Demo seeding ms (median) |"
  echo "|---|---|--:|---|--:|--:|"
  printf '%s\n' "${START_ROWS[@]}"
  echo
  echo "Graceful stop (SIGTERM to exit, idle server):"
  echo
  echo "| Backend | Median ms | Runs ms |"
  echo "|---|--:|---|"
  printf '%s\n' "${STOP_ROWS[@]}"
  echo
  echo "### Memory (VmRSS)"
  echo
  echo "| Backend | Idle (ready, 1 login, +5 s) | After the wrk runs | Peak (VmHWM) |"
  echo "|---|--:|--:|--:|"
  printf '%s\n' "${MEM_ROWS[@]}"
  echo
  echo "### Throughput (wrk -t$THREADS -c$CONNS -d$DURATION --latency)"
  echo
  echo "wrk and the server (and, for PostgreSQL, the database server) share the same $(nproc) cores. Each run follows an unreported 2 s warm-up. \"Server cores\" is the server process's CPU time (user+system) over the run divided by its duration; \"Server CPU/req\" the same CPU time per request (µs); \"Machine busy\" the whole machine's busy cores (server + wrk + PostgreSQL + anything else), out of $(nproc)."
  echo
  echo "| Backend | Request | Requests/s | p50 | p99 | Requests | Non-2xx | Socket errors | Server cores | Server CPU/req µs | Machine busy |"
  echo "|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|"
  printf '%s\n' "${WRK_ROWS[@]}"
  echo
  if [ ${#NOTES[@]} -gt 0 ]; then
    echo "Notes:"
    echo
    printf -- '- %s\n' "${NOTES[@]}"
    echo
  fi
  if [ "$GOBENCH" = 1 ]; then
    echo "### Go benchmarks"
    echo
    echo "\`go test -run '^\$' -bench . -benchmem ./internal/platform/crypto/ ./internal/demo/district/\`:"
    echo
    printf '%s\n' "$GO_REAL" | bench_table
    echo
    echo '```'
    printf '%s\n' "$GO_REAL"
    echo '```'
    echo
    echo "Point-to-grid lookups, \`go test -run '^\$' -bench 'Locate|PostGIS' -benchmem ./internal/geo/\` (ns/lookup and lookups/s in the raw output; PostGIS is skipped when the server lacks the extension):"
    echo
    printf '%s\n' "$GO_GEO" | bench_table
    echo
    echo '```'
    printf '%s\n' "$GO_GEO"
    echo '```'
    echo
    echo "Base data: import of 1,000,000 people (SQLite, all-or-nothing), masked person lookups through the API (16 parallel clients, 20,000 lookups), demo seeding at 100,000 people:"
    echo
    echo '```'
    printf '%s\n' "$GO_BASE"
    echo '```'
    echo
    echo "Cases: the Open311 POST path with 64 concurrent clients in the test process (\`BENCH_CASES\` requests, default 20,000, per backend), and the classifier on its held-out set:"
    echo
    echo '```'
    printf '%s\n' "${GO_CASES:-}"
    echo '```'
    echo
    echo "Exchange: single-key lookups of a hosted resource of 10,000 people with 64 concurrent callers — plain primary-key read, governed (grant, limits, masking, recorded access), governed over HTTP (\`BENCH_EXCHANGE\` lookups, default 50,000, per backend) — and the quality rules over 100,000 records:"
    echo
    echo '```'
    printf '%s\n' "${GO_EXCHANGE:-}"
    echo '```'
    echo
    if [ -n "${GO_CURVE:-}" ]; then
      echo "Exchange latency curve: the same plain read and governed lookup offered at lower rates (\`BENCH_EXCHANGE_RATES\`; p50/p99 from each call's scheduled start):"
      echo
      echo '```'
      printf '%s' "$GO_CURVE"
      echo '```'
      echo
    fi
    echo "Smoke, \`go test -run '^\$' -bench . -benchtime 1x ./...\` (packages without test files left out; the import at 10,000 rows):"
    echo
    echo '```'
    printf '%s\n' "$GO_SMOKE"
    echo '```'
    echo
  fi
  echo "<details><summary>Raw wrk output</summary>"
  echo
  printf '%s\n' "${RAW[@]}"
  echo "</details>"
  echo
  echo "bench.sh took $(($(date +%s) - script_start)) s."
}

if [ -n "$OUT" ]; then summary | tee "$OUT"; else summary; fi
[ "$GO_FAIL" = 0 ] || die "Go benchmarks failed (see the summary)"
