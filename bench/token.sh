#!/usr/bin/env bash
# `make bench`: starts the release server on a fresh SQLite database, creates a client, and
# drives POST /oauth/token (client credentials, Basic) with wrk at 64 keep-alive connections
# for 10 s. Prints requests/s, p50/p99 latency, non-200 answers and the server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=./target/release/tollbooth
PORT=${BENCH_PORT:-18181}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
WORKDIR=$(mktemp -d)
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT

export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/bench.db"
export TOLLBOOTH_LISTEN="127.0.0.1:$PORT"
export TOLLBOOTH_LOG_LEVEL=warn
KEYS=$("$BIN" bootstrap --json 2>/dev/null)
TENANT_KEY=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tenant_key"])' "$KEYS")

"$BIN" serve >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

CLIENT=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/clients" -H "Authorization: Bearer $TENANT_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["read","write"]}')
export CLIENT_ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$CLIENT")
export CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_secret"])' "$CLIENT")

# Warm up (connections, caches), then measure.
wrk -t1 -c"$CONNECTIONS" -d2s -s bench/token.lua "http://127.0.0.1:$PORT/oauth/token" >/dev/null
OUT=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/token.lua "http://127.0.0.1:$PORT/oauth/token")
RESULT=$(grep '^RESULT' <<<"$OUT")
PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")

python3 - "$RESULT" "$PEAK_RSS_KB" "$CONNECTIONS" <<'PY'
import sys
fields = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
requests, seconds = int(fields["requests"]), int(fields["duration_us"]) / 1e6
print(f"POST /oauth/token (client_credentials, Basic, ES256 JWT) — {sys.argv[3]} connections, {seconds:.1f} s, SQLite")
print(f"  throughput      {requests / seconds:,.0f} requests/s  (target >= 15,000)")
print(f"  latency p50     {int(fields['p50_us']) / 1000:.2f} ms")
print(f"  latency p99     {int(fields['p99_us']) / 1000:.2f} ms  (target < 10 ms)")
print(f"  non-200 answers {fields['non2xx']}  (socket errors {fields['errors']})")
print(f"  server peak RSS {int(sys.argv[2]) / 1024:.1f} MiB  (target < 64 MiB)")
PY
