#!/usr/bin/env bash
# Runs the browser end-to-end tests against a real server:
#   bash web/e2e/run.sh path/to/shuzhi [e2e/some.test.mjs ...]
# Starts `shuzhi serve --demo` on a free loopback port with a throw-away data
# directory, waits for /readyz, runs `node --test web/e2e/`, stops the server
# and exits with the tests' status. Needs Chromium at /usr/bin/chromium (or
# $CHROMIUM) and web/node_modules (npm ci in web/).
set -uo pipefail

bin="${1:?usage: run.sh path/to/shuzhi [test files]}"
shift
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=(e2e/)
[[ -x "$bin" ]] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
web="$(dirname "$here")"

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
data="$(mktemp -d)"
log="$data/server.log"
export SHUZHI_URL="http://127.0.0.1:$port"
# The binary and its data directory, for tests that run the command line
# against the running server's database (e.g. `shuzhi ledger verify`).
export SHUZHI_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SHUZHI_DATA="$data/db"
export SHUZHI_SCREENSHOTS="${SHUZHI_SCREENSHOTS:-$data/screenshots}"

# A city node of the exchange federation (with no parent or children yet),
# so that the 共享节点 page can invite and revoke.
"$bin" serve --demo --data-dir "$data/db" --listen "127.0.0.1:$port" \
  --node-id 3205 --node-name 苏州市节点 --node-level city >"$log" 2>&1 &
pid=$!
cleanup() {
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  [[ -n "${KEEP_E2E_DATA:-}" ]] || rm -rf "$data"
}
trap cleanup EXIT

ready=""
for _ in $(seq 1800); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$SHUZHI_URL/readyz" 2>/dev/null)" == "200" ]]; then ready=1; break; fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "run.sh: server at $SHUZHI_URL did not become ready within 180 s; its log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "run.sh: server ready at $SHUZHI_URL; screenshots in $SHUZHI_SCREENSHOTS"

cd "$web" && node --test --test-concurrency=1 "${tests[@]}"
status=$?
if [[ $status -ne 0 ]]; then
  echo "run.sh: tests failed; last lines of the server log:" >&2
  tail -n 40 "$log" >&2
fi
exit $status
