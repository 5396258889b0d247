#!/usr/bin/env bash
# The console's figures (docs/console.md, "Figures"): every console page's server time in a tenant holding 100,000 audit events
# and 10,000 API keys (target: p99 < 50 ms at 8 connections), and each page's size on the wire
# (target: < 100 KB, at the largest page size a list offers). On SQLite (what `make run` uses)
# and, when reachable, on PostgreSQL (BENCH_DATABASE_URL, as bench/organizations.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18185}
KEYS_SEEDED=${BENCH_CONSOLE_KEYS:-10000}
EVENTS_SEEDED=${BENCH_CONSOLE_EVENTS:-100000}
CONNECTIONS=${BENCH_CONSOLE_CONNECTIONS:-8}
DURATION=${BENCH_CONSOLE_DURATION:-5s}
BASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
WORKDIR=$(mktemp -d)
# The columns the seeded keys fill, in the order of keys.tsv.
KEY_COLUMNS="id, tenant_id, organization_id, name, key_hash, redacted, previous_key_hash, previous_key_expires_at, scopes, environment, expires_at, created_at, updated_at"
SCHEMA="bench_console_$(date +%s)_$$"
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$BASE_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true; rm -rf "$WORKDIR"' EXIT
export TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
export TOLLBOOTH_SECRETS_ENCRYPTION_KEYS="bench-key-encryption-key-of-32-characters"

# Rows for TENANT: keys (one in ten confined to an organization-less tenant scope) and audit
# events with real ULID ids, made one per millisecond until now: 1 in 1,000 events is a
# `client.deleted` and 1 in 100 is by one actor, so the filters find a page's worth in a deep scan.
seed_rows() {
  python3 - "$1" "$KEYS_SEEDED" "$EVENTS_SEEDED" "$WORKDIR" <<'PY'
import os, sys, time
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid(ms):
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))
tenant, keys, events, workdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
now_ms = int(time.time() * 1000)
stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
with open(f"{workdir}/keys.tsv", "w") as out:
    for i in range(keys):
        key_id = "key_" + ulid(now_ms - keys - 10 + i)
        out.write(f"{key_id}\t{tenant}\t\\N\tbench key {i}\thash{i}\tsk_live_…{i % 10000:04d}\t\\N\t\\N\t[\"users:read\"]\tlive\t\\N\t{stamp}\t{stamp}\n")
actions = ["api_key.created", "api_key.rotated", "client.updated", "user.signed_in", "organization.created"]
with open(f"{workdir}/events.tsv", "w") as out:
    for i in range(events):
        action = "client.deleted" if i % 1000 == 0 else actions[i % len(actions)]
        actor = "user_BENCHACTOR" if i % 100 == 0 else f"key_actor{i % 50}"
        out.write(f"evt_{ulid(now_ms - events - 10 + i)}\t{tenant}\t{actor}\t{action}\tkey_target{i}\t127.0.0.1\t{{}}\t{stamp}\n")
PY
}

# measure BACKEND: seeds the running configuration's database, signs in, measures every page.
measure() {
  local backend=$1
  local keys; keys=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
  TENANT_ID=$(json_field "$keys" tenant_id)
  local email password; email=$(json_field "$keys" admin_email); password=$(json_field "$keys" admin_password)
  seed_rows "$TENANT_ID"
  if [ "$backend" = sqlite ]; then
    python3 - "$WORKDIR/tollbooth.db" "$WORKDIR" "$KEY_COLUMNS" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
KEY_COLUMNS = sys.argv[3]
def rows(name):
    with open(f"{sys.argv[2]}/{name}.tsv") as lines:
        for line in lines:
            yield [None if v == "\\N" else v for v in line.rstrip("\n").split("\t")]
db.executemany("INSERT INTO api_keys (" + KEY_COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows("keys"))
db.executemany("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?)", rows("events"))
db.commit()
db.execute("ANALYZE")
PY
  else
    "${PSQL[@]}" -c "\\copy api_keys ($KEY_COLUMNS) FROM '$WORKDIR/keys.tsv'"
    "${PSQL[@]}" -c "\\copy audit_events FROM '$WORKDIR/events.tsv'"
    "${PSQL[@]}" -c "ANALYZE" >/dev/null
  fi
  start_server "$PORT"
  local base="http://127.0.0.1:$PORT/console/$TENANT_ID"
  local jar="$WORKDIR/cookies-$backend"
  local form; form=$(curl -sf -c "$jar" "$base/")
  local csrf; csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$form")
  curl -sf -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "email=$email" \
    --data-urlencode "password=$password" "$base/sign_in"
  export COOKIE; COOKIE=$(awk '$6 == "tb_console" {print "tb_console=" $7}' "$jar")
  [ -n "$COOKIE" ] || { echo "the bench could not sign in" >&2; return 1; }
  local key_id; key_id=$(awk -F'\t' 'NR == 5000 {print $1}' "$WORKDIR/keys.tsv")
  local middle; middle=$(awk -F'\t' 'NR == 50000 {print $1}' "$WORKDIR/events.tsv")
  echo "== console pages on $backend: $KEYS_SEEDED API keys, $EVENTS_SEEDED audit events, $CONNECTIONS connections"
  local page
  for page in overview "api_keys?limit=100" "api_keys?limit=100&after=$key_id" "api_keys/$key_id" api_keys/new \
    "audit_log?limit=100" "audit_log?limit=100&before=$middle" "audit_log?limit=100&action=client.deleted" \
    "audit_log?limit=100&actor_id=user_BENCHACTOR" "audit_log?limit=100&action=no.such" clients users organizations resources; do
    local status size; read -r status size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H "Cookie: $COOKIE" --compressed "$base/$page")
    [ "$status" = 200 ] || { echo "GET $page answered $status" >&2; return 1; }
    run_wrk "GET /console/…/$page ($backend)" "p99 < 50 ms" bench/console.lua "$base/$page"
    echo "  page size       $size bytes  (< 100 KB)"
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
}

export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/tollbooth.db"
measure sqlite

if psql "$BASE_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null 2>&1; then
  PSQL=(env PGOPTIONS="-c search_path=$SCHEMA" psql "$BASE_URL" -q)
  [[ $BASE_URL == *\?* ]] && SEPARATOR='&' || SEPARATOR='?'
  export TOLLBOOTH_DATABASE_URL="$BASE_URL${SEPARATOR}options=-csearch_path%3D$SCHEMA"
  measure postgres
else
  echo "skipped: the PostgreSQL run (set BENCH_DATABASE_URL to a reachable server)"
fi
