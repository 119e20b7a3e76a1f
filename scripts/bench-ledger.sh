#!/usr/bin/env bash
# bench-ledger.sh: the ledger's figures for issue 3, in one run on one machine
# (docs/PERFORMANCE.md, "Ledger (issue 3)"):
#
#   1. Durable appends/s with 1, 64 and 1024 concurrent writers on SQLite
#      (the platform's WAL + synchronous=NORMAL), SQLite with
#      synchronous=FULL, and PostgreSQL; international and 国密 profile
#      (internal/ledger BenchmarkAppend).
#   2. The same workload appended to a Tessera v1.0.4 POSIX log in a temp dir
#      (bench/tessera BenchmarkTesseraPOSIX), with three batching settings.
#   3. Server-side inclusion-proof time at 1M and 10M entries, cold and warm
#      tile cache (internal/ledger BenchmarkProveInclusion; builds the logs
#      first, which takes most of this step).
#
# Prints the raw `go test` output and a Markdown summary to stdout. Takes
# about 6-8 minutes on 2 cores and needs ~11 GB of free disk in $TMPDIR for
# the 10M log (its WAL included). Everything is written under one temp
# directory, removed on exit (also on failure or Ctrl-C).
#
# Environment:
#   BENCH_LEDGER_PROOF_SIZES=1000000,10000000   log sizes for the proof benchmark
#   BENCH_LEDGER_SKIP="proofs tessera postgres" steps to leave out
#   BENCH_LEDGER_OUT=FILE                       also write the output there
#   SHUZHI_TEST_PG=postgres://...               PostgreSQL server to create the
#                       throwaway databases on (default: scripts/ensure-postgres.sh,
#                       i.e. 127.0.0.1:5432 when it answers, else a throwaway cluster,
#                       which runs with fsync=off: the summary says which)
set -euo pipefail
cd "$(dirname "$0")/.."

PROOF_SIZES=${BENCH_LEDGER_PROOF_SIZES:-1000000,10000000}
SKIP=" ${BENCH_LEDGER_SKIP:-} "
OUT=${BENCH_LEDGER_OUT:-}

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/shuzhi-bench-ledger.XXXXXX")
FG=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$FG" ] || kill -TERM "$FG" 2>/dev/null || true
  [ -z "$FG" ] || wait "$FG" 2>/dev/null || true
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "pg_ctl -D '$work/pg/data' -m fast stop" >/dev/null 2>&1 ||
      "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { echo "bench-ledger: $*" >&2; }

# run_bg CMD...: runs CMD in the background and waits, so that a signal is
# handled at once and cleanup can stop CMD.
run_bg() {
  "$@" &
  FG=$!
  local rc=0
  wait "$FG" || rc=$?
  FG=
  return "$rc"
}

mkdir -p "$work/tmp"
raw=$work/raw.txt
: >"$raw"

log "building the test binaries"
go test -c -o "$work/ledger.test" ./internal/ledger
go test -c -o "$work/tessera.test" ./bench/tessera

if [[ "$SKIP" != *" postgres "* ]]; then
  SHUZHI_TEST_PG=$(bash scripts/ensure-postgres.sh "$work/pg")
  export SHUZHI_TEST_PG
  pg_settings=$(psql -X -At -d "$SHUZHI_TEST_PG" -c "select version()" -c "show fsync" -c "show synchronous_commit" -c "show wal_sync_method" 2>/dev/null | paste -sd ';' || echo unknown)
  backends='sqlite|sqlite-syncfull|postgres'
else
  pg_settings="skipped"
  backends='sqlite|sqlite-syncfull'
fi

# All temp dirs (SQLite files, PostgreSQL-free Tessera logs, proof logs) go
# under $work.
export TMPDIR=$work/tmp

# bench BINARY PATTERN BENCHTIME [ENV=VALUE...]: runs one benchmark group and
# appends its output to $raw.
bench() {
  local bin=$1 pat=$2 bt=$3; shift 3
  log "$(basename "$bin") -test.bench '$pat' -test.benchtime $bt $*"
  (cd "$work" && run_bg env "$@" "$bin" -test.run '^$' -test.bench "$pat" -test.benchtime "$bt" -test.v -test.timeout 20m) >>"$raw" 2>&1 ||
    { log "FAILED: $pat"; tail -30 "$raw" >&2; return 1; }
}

# 1. Appends. b.N appends per run, split over the writers.
bench "$work/ledger.test" "^BenchmarkAppend\$/^($backends)\$/^writers=1\$" 2000x
bench "$work/ledger.test" "^BenchmarkAppend\$/^($backends)\$/^writers=64\$" 20000x
bench "$work/ledger.test" "^BenchmarkAppend\$/^($backends)\$/^writers=1024\$" 100000x

# 2. Tessera POSIX, same records, three batching settings (maxSize, maxAge).
if [[ "$SKIP" != *" tessera "* ]]; then
  for cfg in 4096,1ms 4096,10ms 256,10ms; do
    size=${cfg%,*} age=${cfg#*,}
    echo "### tessera maxSize=$size maxAge=$age" >>"$raw"
    bench "$work/tessera.test" '^BenchmarkTesseraPOSIX$/^writers=1$' 200x SHUZHI_BENCH_TESSERA_MAX_SIZE="$size" SHUZHI_BENCH_TESSERA_MAX_AGE="$age"
    bench "$work/tessera.test" '^BenchmarkTesseraPOSIX$/^writers=64$' 5000x SHUZHI_BENCH_TESSERA_MAX_SIZE="$size" SHUZHI_BENCH_TESSERA_MAX_AGE="$age"
    bench "$work/tessera.test" '^BenchmarkTesseraPOSIX$/^writers=1024$' 20000x SHUZHI_BENCH_TESSERA_MAX_SIZE="$size" SHUZHI_BENCH_TESSERA_MAX_AGE="$age"
  done
fi

# 3. Inclusion proofs: 2,000 proofs per run (fresh, cold, disk: 2,000 distinct
#    leaf tiles each; cold and disk after up to 5,000 proofs of other tiles).
if [[ "$SKIP" != *" proofs "* ]]; then
  bench "$work/ledger.test" '^BenchmarkProveInclusion$' 2000x SHUZHI_BENCH_PROOF_SIZES="$PROOF_SIZES" SHUZHI_BENCH_PROOF_DIR="$work/proofs"
fi

elapsed=$(($(date +%s) - start))

summary() {
  echo "## Ledger benchmark run"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- internal/ledger bench/tessera ':!internal/ledger/bench_test.go' 2>/dev/null || echo ' (internal/ledger or bench/tessera has local changes)')"
  echo "- Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(df -PT "$work" | awk 'NR==2 {print $2}') filesystem for $TMPDIR; $(go version | awk '{print $3}')"
  echo "- PostgreSQL: $pg_settings"
  echo "- Load average (1/5/15 min) at start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Duration: ${elapsed}s"
  echo
  echo "### Appends/s"
  echo
  echo "| Benchmark | appends/s | entries/s | records/commit | written bytes/append |"
  echo "|---|--:|--:|--:|--:|"
  awk '/^BenchmarkAppend\// && /appends\/s/ {
      name=$1; sub(/-[0-9]+$/, "", name); a=e=r=w="–"
      for (i=3; i<NF; i++) { if ($(i+1)=="appends/s") a=$i; if ($(i+1)=="entries/s") e=$i; if ($(i+1)=="records/commit") r=$i; if ($(i+1)=="wbytes/append") w=$i }
      printf "| %s | %d | %d | %s | %s |\n", name, a+0.5, e+0.5, r, w }' "$raw"
  echo
  echo "### Tessera POSIX (same records), appends/s"
  echo
  echo "| Batching | writers=1 | writers=64 | writers=1024 |"
  echo "|---|--:|--:|--:|"
  awk '/^### tessera/ {cfg=$3" "$4}
       /^BenchmarkTesseraPOSIX\// && /appends\/s/ {
         split($1, p, "writers="); w=p[2]; sub(/-[0-9]+$/, "", w)
         for (i=3; i<NF; i++) if ($(i+1)=="appends/s") v[cfg, w]=$i
         if (!(cfg in seen)) { seen[cfg]=1; order[++n]=cfg } }
       END { for (k=1; k<=n; k++) { c=order[k]; printf "| %s | %.0f | %.0f | %.0f |\n", c, v[c,1], v[c,64], v[c,1024] } }' "$raw"
  echo
  echo "### Ledger ÷ best Tessera setting (international profile)"
  echo
  echo "| Backend | writers=1 | writers=64 | writers=1024 |"
  echo "|---|--:|--:|--:|"
  awk '/^BenchmarkTesseraPOSIX\// && /appends\/s/ {
         split($1, p, "writers="); w=p[2]; sub(/-[0-9]+$/, "", w)
         for (i=3; i<NF; i++) if ($(i+1)=="appends/s" && $i > best[w]) best[w]=$i }
       /^BenchmarkAppend\// && /appends\/s/ && !/profile=gm/ {
         n=split($1, p, "/"); b=p[2]; w=p[3]; sub(/^writers=/, "", w); sub(/-[0-9]+$/, "", w)
         for (i=3; i<NF; i++) if ($(i+1)=="appends/s") v[b, w]=$i
         if (!(b in seen)) { seen[b]=1; order[++m]=b } }
       END { for (k=1; k<=m; k++) { b=order[k]; printf "| %s |", b
               for (j=1; j<=3; j++) { w=(j==1?1:(j==2?64:1024)); if (best[w] > 0) printf " %.1f× |", v[b,w]/best[w]; else printf " – |" }
               printf "\n" } }' "$raw"
  echo
  echo "### Inclusion proofs (server-side ProveInclusion, SQLite)"
  echo
  grep -E 'built a log of' "$raw" | sed 's/^ *bench_test.go:[0-9]*: /- /' || true
  echo
  echo "| Benchmark | µs/proof | stored hashes read | tile SELECTs (cache misses) |"
  echo "|---|--:|--:|--:|"
  awk '/^BenchmarkProveInclusion\// && /proof/ {
      name=$1; sub(/-[0-9]+$/, "", name); u=h=s="–"
      for (i=3; i<NF; i++) { if ($(i+1)=="µs/proof") u=$i; if ($(i+1)=="hashes/proof") h=$i; if ($(i+1)=="tileSELECTs/proof") s=$i }
      printf "| %s | %s | %s | %s |\n", name, u, h, s }' "$raw"
  echo
  echo "### Raw output"
  echo
  echo '```'
  grep -vE '^=== RUN|^--- (PASS|BENCH)|^PASS$|^goos:|^goarch:|^pkg:' "$raw" || true
  echo '```'
}

if [ -n "$OUT" ]; then summary | tee "$OUT"; else summary; fi
