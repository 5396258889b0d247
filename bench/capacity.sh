#!/usr/bin/env bash
# docs/capacity.md's table: for each kind of request, on SQLite and on PostgreSQL (a schema of
# its own; skipped when unreachable), with the Redis counter store: requests/s, p99, server
# CPU per request, database statements (round trips) and commits per request from the
# server's /metrics, rows written per request (PostgreSQL's pg_stat_user_tables), and Redis
# commands sent per request (INFO commandstats). BENCH_DURATION (default 5s) per row.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18191}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/}
PG_BASE=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SCHEMA="capacity_$(date +%s)_$$"
WORKDIR=$(mktemp -d)
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$PG_BASE" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true; rm -rf "$WORKDIR"' EXIT
if ! redis-cli -u "$REDIS" ping >/dev/null 2>&1; then
  echo "skipped: Redis at $REDIS is unreachable (set BENCH_REDIS_URL)"; exit 0
fi
export TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn TOLLBOOTH_REDIS_URL="$REDIS"
export TOLLBOOTH_SECRETS_ENCRYPTION_KEYS="bench-key-encryption-key-of-32-characters"
BASE="http://127.0.0.1:$PORT"

metric() { curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
redis_sent() { redis-cli -u "$REDIS" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_(evalsha|eval|script)/ {s += $3} END {print s + 0}'; }
rows_written() {
  [[ $TOLLBOOTH_DATABASE_URL == postgres* ]] || { echo 0; return; }
  psql "$PG_BASE" -tAc "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables WHERE schemaname = '$SCHEMA'"
}

# row TITLE SCRIPT URL: one line of the table.
row() {
  local title=$1 script=$2 url=$3
  wrk -t1 -c"$CONNECTIONS" -d1s -s "$script" "$url" >/dev/null
  sleep 1.2 # PostgreSQL publishes table statistics at most once a second
  local cpu0 st0 co0 re0 wr0
  cpu0=$(server_cpu_ticks); st0=$(metric tollbooth_db_statements_total); co0=$(metric tollbooth_db_commits_total)
  re0=$(redis_sent); wr0=$(rows_written)
  local out; out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$script" "$url" | grep '^RESULT')
  local cpu1 st1 co1 re1
  cpu1=$(server_cpu_ticks); st1=$(metric tollbooth_db_statements_total); co1=$(metric tollbooth_db_commits_total)
  re1=$(redis_sent); sleep 1.2
  python3 - "$title" "$out" "$(getconf CLK_TCK)" "$((cpu1 - cpu0))" "$((st1 - st0))" "$((co1 - co0))" \
    "$((re1 - re0))" "$(( $(rows_written) - wr0 ))" "$DB_NAME" <<'PY'
import sys
title, result, hz, cpu, statements, commits, redis, rows, db = sys.argv[1:]
fields = dict(kv.split("=") for kv in result.split()[1:])
n, seconds = int(fields["requests"]), int(fields["duration_us"]) / 1e6
per = lambda x: f"{int(x) / max(n, 1):.2f}"
rows = per(rows) if db == "PostgreSQL" else "-"
print(f"| {db} | {title} | {n / seconds:,.0f} | {int(fields['p99_us']) / 1000:.1f} ms | "
      f"{int(cpu) / int(hz) / max(n, 1) * 1e6:.0f} µs | {per(statements)} | {per(commits)} | {rows} | {per(redis)} | "
      f"{fields['non2xx']} |")
PY
}

measure() {
  KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
  export API_KEY; API_KEY=$(json_field "$KEYS" tenant_key)
  start_server "$PORT"
  api() { curl -sf -X POST "$BASE$1" -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' -d "$2"; }
  local identifier=https://api.capacity.example
  api /api/v1/resources "{\"name\":\"API\",\"identifier\":\"$identifier\",\"scopes\":[\"orders:read\"]}" >/dev/null
  local key; key=$(json_field "$(api /api/v1/api_keys '{"name":"caller","scopes":["orders:read"]}')" key)
  for i in $(seq 98); do api /api/v1/api_keys "{\"name\":\"key $i\",\"scopes\":[\"orders:read\"]}" >/dev/null; done
  local client; client=$(api /api/v1/clients '{"name":"caller","scopes":["orders:read"]}')
  export CLIENT_ID CLIENT_SECRET TOKEN_EXTRA BASIC ACCESS_TOKEN BODY
  CLIENT_ID=$(json_field "$client" id); CLIENT_SECRET=$(json_field "$client" client_secret)
  TOKEN_EXTRA="&scope=orders:read&resource=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$identifier")"
  BASIC=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)
  local jwt; jwt=$(json_field "$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d "grant_type=client_credentials$TOKEN_EXTRA" "$BASE/oauth/token")" access_token)
  ACCESS_TOKEN=$jwt
  local verify="$BASE/verify?resource=${TOKEN_EXTRA##*resource=}"
  row "POST /oauth/token (client credentials)" bench/token.lua "$BASE/oauth/token"
  API_KEY=$key row "GET /verify, API key" bench/get.lua "$verify"
  API_KEY=$jwt row "GET /verify, JWT" bench/get.lua "$verify"
  row "POST /oauth/introspect, JWT" bench/introspect.lua "$BASE/oauth/introspect"
  row "GET /api/v1/api_keys?limit=100" bench/get.lua "$BASE/api/v1/api_keys?limit=100"
  row "GET /api/v1/clients/{id}" bench/get.lua "$BASE/api/v1/clients/$CLIENT_ID"
  BODY='{"name":"Capacity"}' row "POST /api/v1/organizations" bench/post.lua "$BASE/api/v1/organizations"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
}

echo "| database | request | requests/s | p99 | server CPU | statements | commits | rows written | Redis commands | non-2xx |"
echo "|---|---|---|---|---|---|---|---|---|---|"
DB_NAME=SQLite TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/capacity.db" measure
if psql "$PG_BASE" -qc "CREATE SCHEMA $SCHEMA" >/dev/null 2>&1; then
  [[ $PG_BASE == *\?* ]] && SEPARATOR='&' || SEPARATOR='?'
  DB_NAME=PostgreSQL TOLLBOOTH_DATABASE_URL="$PG_BASE${SEPARATOR}options=-csearch_path%3D$SCHEMA" measure
else
  echo "(PostgreSQL at $PG_BASE is unreachable: its rows are skipped)"
fi
