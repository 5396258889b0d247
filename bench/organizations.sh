#!/usr/bin/env bash
# Issue 3 figures: GET /api/v1/organizations?limit=100 with an API key, on PostgreSQL holding
# 100,000 organizations, for the first page and for a page 50,000 rows deep.
# Targets: >= 5,000 requests/s and p99 < 20 ms for both.
# Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable:
# TLS on loopback protects nothing, and libpq's default, sslmode=prefer, would spend a quarter
# of both sides' CPU on it);
# the run uses a schema of its own and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18182}
BASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
ROWS=${BENCH_ORGANIZATIONS:-100000}
SCHEMA="bench_$(date +%s)_$$"
WORKDIR=$(mktemp -d)
if ! psql "$BASE_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null 2>&1; then
  echo "skipped: PostgreSQL at $BASE_URL is unreachable (set BENCH_DATABASE_URL)"; exit 0
fi
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$BASE_URL" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1; rm -rf "$WORKDIR"' EXIT

# The run's own schema, added to whatever parameters BASE_URL already has.
[[ $BASE_URL == *\?* ]] && SEPARATOR='&' || SEPARATOR='?'
export TOLLBOOTH_DATABASE_URL="$BASE_URL${SEPARATOR}options=-csearch_path%3D$SCHEMA" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
export TOLLBOOTH_SECRETS_ENCRYPTION_KEYS="bench-key-encryption-key-of-32-characters"
KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
TENANT_ID=$(json_field "$KEYS" tenant_id)
export API_KEY=$(json_field "$KEYS" tenant_key)

# Organizations with real ULID ids, increasing like ids made one per millisecond.
python3 - "$TENANT_ID" "$ROWS" >"$WORKDIR/organizations.tsv" <<'PY'
import os, sys, time
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid(ms):
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))
tenant, rows = sys.argv[1], int(sys.argv[2])
start = int(time.time() * 1000) - rows
stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
for i in range(rows):
    print(f"org_{ulid(start + i)}\t{tenant}\tOrganization {i}\t[\"org{i}.example.com\"]\t{{\"index\": {i}}}\t{stamp}\t{stamp}")
PY
PGOPTIONS="-c search_path=$SCHEMA" psql "$BASE_URL" -qc "\\copy organizations (id, tenant_id, name, domains, metadata, created_at, updated_at) FROM '$WORKDIR/organizations.tsv'"
PGOPTIONS="-c search_path=$SCHEMA" psql "$BASE_URL" -qc "ANALYZE organizations" >/dev/null
DEEP=$(PGOPTIONS="-c search_path=$SCHEMA" psql "$BASE_URL" -tAc "SELECT id FROM organizations ORDER BY id DESC OFFSET $((ROWS / 2)) LIMIT 1")

start_server "$PORT"
URL="http://127.0.0.1:$PORT/api/v1/organizations?limit=100"
test "$(curl -sf "$URL" -H "Authorization: Bearer $API_KEY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')" = 100
run_wrk "GET /api/v1/organizations?limit=100, first page, PostgreSQL with $ROWS organizations" ">= 5,000/s, p99 < 20 ms" \
  bench/get.lua "$URL"
run_wrk "GET /api/v1/organizations?limit=100&after=<row $((ROWS / 2))>, PostgreSQL" ">= 5,000/s, p99 < 20 ms" \
  bench/get.lua "$URL&after=$DEEP"
peak_rss
