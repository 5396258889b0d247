#!/usr/bin/env bash
# Issue 2 figures: POST /oauth/token (client credentials, Basic, ES256 JWT) on SQLite, 64
# keep-alive connections for 10 s. Targets: >= 15,000 requests/s, p99 < 10 ms, no non-200
# answer, server peak RSS < 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18181}
WORKDIR=$(mktemp -d)
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT

export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/bench.db" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
start_server "$PORT"
TENANT_KEY=$(json_field "$KEYS" tenant_key)
# The tenant's API, whose scopes the clients hold (docs/api.md, "Resources").
curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/resources" -H "Authorization: Bearer $TENANT_KEY" \
  -H 'Content-Type: application/json' \
  -d '{"name":"Orders","identifier":"https://orders.bench.test","scopes":["orders:read","orders:write"]}' >/dev/null
CLIENT=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/clients" -H "Authorization: Bearer $TENANT_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["orders:read","orders:write"]}')
export CLIENT_ID=$(json_field "$CLIENT" id) CLIENT_SECRET=$(json_field "$CLIENT" client_secret)

run_wrk "POST /oauth/token (client_credentials, Basic, ES256 JWT), SQLite" ">= 15,000/s, p99 < 10 ms" \
  bench/token.lua "http://127.0.0.1:$PORT/oauth/token"
peak_rss

# The same with an RFC 8707 `resource` (docs/oauth.md, "Audiences"): a client holding scopes of
# two APIs names one; the token is for it. Target: no more server CPU per request than above.
CLIENT=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/clients" -H "Authorization: Bearer $TENANT_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench resource","scopes":["orders:read","users:read"]}')
export CLIENT_ID=$(json_field "$CLIENT" id) CLIENT_SECRET=$(json_field "$CLIENT" client_secret)
export TOKEN_EXTRA="&resource=https%3A%2F%2Forders.bench.test"
run_wrk "POST /oauth/token (client_credentials with resource), SQLite" "no worse than without" \
  bench/token.lua "http://127.0.0.1:$PORT/oauth/token"
