#!/usr/bin/env bash
# Issue 6 figures: start-up to /readyz 200 on SQLite with migrations already applied (target
# < 200 ms, best and median of 10 starts), and the time of a /metrics scrape after 1,000,000
# requests (target < 5 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18185}
WORKDIR=$(mktemp -d)
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/bench.db" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
"$BIN" --config "$BENCH_CONFIG" migrate >/dev/null
"$BIN" --config "$BENCH_CONFIG" bootstrap --json >/dev/null 2>&1

python3 - "$BIN" "$BENCH_CONFIG" "$PORT" <<'PY'
import statistics, subprocess, sys, time, urllib.request
binary, config, port = sys.argv[1], sys.argv[2], sys.argv[3]
times = []
for _ in range(10):
    started = time.perf_counter()
    server = subprocess.Popen([binary, "--config", config, "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200:
                break
        except Exception:
            time.sleep(0.002)
    times.append((time.perf_counter() - started) * 1000)
    server.terminate(); server.wait()
print(f"start-up to /readyz 200, SQLite, migrated — 10 starts")
print(f"  best {min(times):.0f} ms, median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms  (target < 200 ms)")
PY

start_server "$PORT"
cat >"$WORKDIR/count.lua" <<'LUA'
local limit = 1000000
local sent = 0
request = function()
  sent = sent + 1
  if sent > limit then wrk.thread:stop() end
  return wrk.format("GET", "/healthz")
end
LUA
wrk -t1 -c"$CONNECTIONS" -d120s -s "$WORKDIR/count.lua" "http://127.0.0.1:$PORT/healthz" >/dev/null
SERVED=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk -F' ' '/^tollbooth_http_requests_total\{route="\/healthz",status="200"\}/ {print $2}')
python3 - "$PORT" "$SERVED" <<'PY'
import statistics, sys, time, urllib.request
port, served = sys.argv[1], sys.argv[2]
times = []
for _ in range(200):
    started = time.perf_counter()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read()
    times.append((time.perf_counter() - started) * 1000)
    time.sleep(0.01)
times.sort()
print(f"/metrics scrape after {float(served):,.0f} counted requests — 200 scrapes (new connection each), {len(body):,} bytes")
print(f"  median {statistics.median(times):.2f} ms, p95 {times[189]:.2f} ms, p99 {times[197]:.2f} ms, worst {times[-1]:.2f} ms  (target < 5 ms)")
PY
