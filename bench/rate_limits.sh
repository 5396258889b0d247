#!/usr/bin/env bash
# Issue 5 figures: an authenticated GET /api/v1/rate_limits through the Redis counter store at
# 64 connections (target >= 20,000 requests/s), the same request with rate limiting switched
# off in the same run (target: Redis >= 60% of it), and Redis commands per counted request
# (target: one round trip, from INFO commandstats).
# Needs Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/); skipped when unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18183}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/}
REDIS_HOST_PORT=${REDIS_URL#redis://}; REDIS_HOST_PORT=${REDIS_HOST_PORT%%/*}
REDIS=(redis-cli -h "${REDIS_HOST_PORT%%:*}" -p "${REDIS_HOST_PORT##*:}")
if ! "${REDIS[@]}" ping >/dev/null 2>&1; then
  echo "skipped: Redis at $REDIS_URL is unreachable (set BENCH_REDIS_URL)"; exit 0
fi
WORKDIR=$(mktemp -d)
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT

export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/bench.db" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
export API_KEY=$(json_field "$KEYS" tenant_key)
URL="http://127.0.0.1:$PORT/api/v1/rate_limits"

calls() { "${REDIS[@]}" info commandstats | tr -d '\r' | awk -F'[:=,]' -v c="cmdstat_$1" '$1 == c {print $3}' | grep . || echo 0; }
total_calls() { "${REDIS[@]}" info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" {s += $3} END {print s + 0}'; }

TOLLBOOTH_REDIS_URL=$REDIS_URL start_server "$PORT"
test "$(curl -s "$URL" -H "Authorization: Bearer $API_KEY" -o /dev/null -w '%{http_code}')" = 200
wrk -t1 -c"$CONNECTIONS" -d2s -s bench/get.lua "$URL" >/dev/null
before_eval=$(calls evalsha); before_all=$(total_calls)
OUT=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/get.lua "$URL")
after_eval=$(calls evalsha); after_all=$(total_calls)
REDIS_RESULT=$(grep '^RESULT' <<<"$OUT")
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^tollbooth_counter_store_(fallbacks_total|up) ' | sed 's/^/  /' >"$WORKDIR/metrics"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

TOLLBOOTH_RATE_LIMIT_ENABLED=false start_server "$PORT"
wrk -t1 -c"$CONNECTIONS" -d2s -s bench/get.lua "$URL" >/dev/null
OFF_RESULT=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/get.lua "$URL" | grep '^RESULT')

python3 - "$REDIS_RESULT" "$OFF_RESULT" "$before_eval" "$after_eval" "$before_all" "$after_all" "$CONNECTIONS" <<'PY'
import sys
def parse(line):
    f = dict(kv.split("=") for kv in line.split()[1:])
    return {k: int(v) for k, v in f.items()}
redis, off = parse(sys.argv[1]), parse(sys.argv[2])
rps = lambda r: r["requests"] / (r["duration_us"] / 1e6)
b_eval, a_eval, b_all, a_all = map(int, sys.argv[3:7])
print(f"GET /api/v1/rate_limits with an API key — {sys.argv[7]} connections, SQLite")
for name, r in (("Redis counter store", redis), ("rate limiting off", off)):
    print(f"  {name:20} {rps(r):>9,.0f} requests/s   p50 {r['p50_us']/1000:.2f} ms   p99 {r['p99_us']/1000:.2f} ms   non-2xx {r['non2xx']}")
print(f"  Redis / off          {rps(redis) / rps(off):.0%}  (target >= 60%; Redis target >= 20,000/s)")
print(f"  Redis round trips per request   {(a_eval - b_eval) / redis['requests']:.3f}  (EVALSHA calls; target 1)")
print(f"  commands run per request        {(a_all - b_all) / redis['requests']:.3f}  (EVALSHA plus the GET/INCR/EXPIRE inside the script)")
PY
cat "$WORKDIR/metrics"
