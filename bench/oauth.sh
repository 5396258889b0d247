#!/usr/bin/env bash
# Issue 4 figures, on PostgreSQL: the refresh-token grant (target >= 5,000/s; every request
# presents a token of its own, seeded beforehand, of one public client and spread over
# BENCH_REFRESH_USERS users) and introspection of a JWT access token (target >= 20,000/s),
# 64 connections for 10 s each. Issue 16's: the code exchange with scope `openid` (an ID token
# more: RS256, and ES256 for a client that registered it) beside the same exchange without it,
# server CPU per request, in alternating runs.
# Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable:
# TLS on loopback protects nothing, and libpq's default, sslmode=prefer, would spend a quarter
# of both sides' CPU on it).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18184}
BASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SEEDED=${BENCH_REFRESH_TOKENS:-150000}
USERS=${BENCH_REFRESH_USERS:-1000}
SCHEMA="bench_oauth_$(date +%s)_$$"
WORKDIR=$(mktemp -d)
if ! psql "$BASE_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null 2>&1; then
  echo "skipped: PostgreSQL at $BASE_URL is unreachable (set BENCH_DATABASE_URL)"; exit 0
fi
trap 'kill "${SERVER_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; psql "$BASE_URL" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1; rm -rf "$WORKDIR"' EXIT
PSQL=(env PGOPTIONS="-c search_path=$SCHEMA" psql "$BASE_URL" -q)

# The run's own schema, added to whatever parameters BASE_URL already has.
[[ $BASE_URL == *\?* ]] && SEPARATOR='&' || SEPARATOR='?'
export TOLLBOOTH_DATABASE_URL="$BASE_URL${SEPARATOR}options=-csearch_path%3D$SCHEMA" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
export TOLLBOOTH_SECRETS_ENCRYPTION_KEYS="bench-key-encryption-key-of-32-characters"
# A known pepper, so this script can store refresh tokens the way the server hashes them.
export TOLLBOOTH_SECRETS_PEPPER="bench-pepper-bench-pepper-bench-pepper"
KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
TENANT_ID=$(json_field "$KEYS" tenant_id); TENANT_KEY=$(json_field "$KEYS" tenant_key)
start_server "$PORT"
api() { curl -sf -X POST "http://127.0.0.1:$PORT$1" -H "Authorization: Bearer $TENANT_KEY" -H 'Content-Type: application/json' -d "$2"; }
PUBLIC=$(api /api/v1/clients '{"name":"bench app","confidential":false,"grant_types":["authorization_code","refresh_token"],"redirect_uris":["https://app.example.com/cb"],"scopes":["openid","profile"]}')
export CLIENT_ID=$(json_field "$PUBLIC" id)
ES256=$(api /api/v1/clients '{"name":"bench es256 app","confidential":false,"grant_types":["authorization_code"],"redirect_uris":["https://app.example.com/cb"],"scopes":["openid","profile"],"id_token_signed_response_alg":"ES256"}')
ES256_CLIENT_ID=$(json_field "$ES256" id)
client_of() { if [ "$1" = es256 ]; then echo "$ES256_CLIENT_ID"; else echo "$CLIENT_ID"; fi; }
SERVICE=$(api /api/v1/clients '{"name":"resource server","scopes":["profile"]}')
SERVICE_ID=$(json_field "$SERVICE" id); SERVICE_SECRET=$(json_field "$SERVICE" client_secret)
export BASIC=$(printf '%s:%s' "$SERVICE_ID" "$SERVICE_SECRET" | base64 -w0)
export ACCESS_TOKEN=$(json_field "$(curl -sf -u "$SERVICE_ID:$SERVICE_SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth/token")" access_token)

# Seed users, and refresh tokens (one family each, as the server stores them) spread over them.
"${PSQL[@]}" -c "INSERT INTO users SELECT 'user_bench' || i, '$TENANT_ID', NULL, 'bench' || i || '@example.com', \
  'Bench ' || i, NULL, false, now(), now() FROM generate_series(1, $USERS) AS i"
export REFRESH_TOKENS="$WORKDIR/refresh_tokens.txt"
python3 - "$SEEDED" "$TENANT_ID" "$CLIENT_ID" "$USERS" "$TOLLBOOTH_SECRETS_PEPPER" "$REFRESH_TOKENS" >"$WORKDIR/rows.tsv" <<'PY'
import hashlib, hmac, os, sys, time
count, tenant, client, users, pepper, out = int(sys.argv[1]), *sys.argv[2:7]
now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
later = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 86400))
with open(out, "w") as tokens:
    for i in range(count):
        token = "rt_" + os.urandom(32).hex()
        tokens.write(token + "\n")
        digest = hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()
        user = f"user_bench{i % int(users) + 1}"
        print(f"{digest}\tfam{i}\t{tenant}\t{client}\t{user}\tprofile\tjti{i}\t{now}\t{later}\t\\N\t\\N\t{now}")
PY
"${PSQL[@]}" -c "\\copy refresh_tokens (token_hash, family_id, tenant_id, client_id, user_id, scope, access_jti, \
  access_expires_at, expires_at, used_at, revoked_at, created_at) FROM '$WORKDIR/rows.tsv'"
"${PSQL[@]}" -c "ANALYZE refresh_tokens" >/dev/null
test "$(curl -s -o /dev/null -w '%{http_code}' -d "grant_type=refresh_token&client_id=$CLIENT_ID&refresh_token=$(tail -1 "$REFRESH_TOKENS")" "http://127.0.0.1:$PORT/oauth/token")" = 200

# No warm-up for refreshes: each token works once.
WARMUP=0 run_wrk "POST /oauth/token grant_type=refresh_token (rotation), PostgreSQL, $USERS users" ">= 5,000/s" \
  bench/refresh.lua "http://127.0.0.1:$PORT/oauth/token"
run_wrk "POST /oauth/introspect of a JWT access token (client_secret_basic), PostgreSQL" ">= 20,000/s" \
  bench/introspect.lua "http://127.0.0.1:$PORT/oauth/introspect"
# Authorization codes, as the authorization endpoint stores them after a sign-in: one file of
# codes granting `profile`, one granting `openid profile`, one granting that to the ES256 client.
CODES_SEEDED=${BENCH_CODES:-60000}
for kind in profile openid es256; do
  python3 - "$CODES_SEEDED" "$TENANT_ID" "$(client_of $kind)" "$USERS" "$TOLLBOOTH_SECRETS_PEPPER" "$WORKDIR/codes-$kind.txt" "$kind" \
    >"$WORKDIR/codes-$kind.tsv" <<'PY'
import hashlib, hmac, os, sys, time
count, tenant, client, users, pepper, out, kind = int(sys.argv[1]), *sys.argv[2:8]
scope = "profile" if kind == "profile" else "openid profile"
now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
later = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 86400))
with open(out, "w") as codes:
    for i in range(count):
        code = os.urandom(32).hex()
        codes.write(code + "\n")
        digest = hmac.new(pepper.encode(), code.encode(), hashlib.sha256).hexdigest()
        user = f"user_bench{i % int(users) + 1}"
        print(f"{digest}\t{tenant}\t{client}\t{user}\thttps://app.example.com/cb\t{scope}\t{later}\t{now}\tn-{i}\t{now}\tsid{i}")
PY
  "${PSQL[@]}" -c "\\copy authorization_codes (code_hash, tenant_id, client_id, user_id, redirect_uri, scope, \
    expires_at, created_at, nonce, auth_time, session_id) FROM '$WORKDIR/codes-$kind.tsv'"
done
"${PSQL[@]}" -c "ANALYZE authorization_codes" >/dev/null
for kind in profile openid es256 profile openid es256; do
  # Each run takes codes from the top of its file: drop the ones a previous run used.
  CLIENT_ID=$(client_of $kind) CODES="$WORKDIR/codes-$kind.txt" WARMUP=0 \
    run_wrk "POST /oauth/token grant_type=authorization_code, $kind, PostgreSQL" \
    "ratio to profile" bench/code.lua "http://127.0.0.1:$PORT/oauth/token"
  tail -n +"$((CODES_SEEDED / 2 + 1))" "$WORKDIR/codes-$kind.txt" >"$WORKDIR/rest" && mv "$WORKDIR/rest" "$WORKDIR/codes-$kind.txt"
done
peak_rss
