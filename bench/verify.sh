#!/usr/bin/env bash
# Forward authentication's figures (docs/protect-your-api.md, "Figures"), on SQLite with the
# Redis counter store: GET /verify with an API key and with a JWT beside a hello-world GET of
# the same actix-web in the same run (target: at least half its requests per second, p99 under
# 3 ms, one Redis command per call), all three again at half the hello-world's rate, and nginx in front of an API with auth_request to Tollbooth
# beside nginx in front of it alone. Needs Redis (BENCH_REDIS_URL); nginx is optional.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
PORT=${BENCH_PORT:-18186}
HELLO_PORT=${BENCH_HELLO_PORT:-18187}
NGINX_PORT=${BENCH_NGINX_PORT:-18188}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/}
WORKDIR=$(mktemp -d)
trap 'kill "${SERVER_PID:-}" "${HELLO_PID:-}" "${NGINX_PID:-}" "${CALLGRIND_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
if ! redis-cli -u "$REDIS" ping >/dev/null 2>&1; then
  echo "skipped: Redis at $REDIS is unreachable (set BENCH_REDIS_URL)"; exit 0
fi
HELLO=${BENCH_HELLO_BIN:-./target/release/examples/hello}
[ -x "$HELLO" ] || cargo build --release -p tollbooth --example hello

export TOLLBOOTH_DATABASE_URL="sqlite://$WORKDIR/tollbooth.db" TOLLBOOTH_LISTEN="127.0.0.1:$PORT" TOLLBOOTH_LOG_LEVEL=warn
export TOLLBOOTH_REDIS_URL="$REDIS"
KEYS=$("$BIN" --config "$BENCH_CONFIG" bootstrap --json 2>/dev/null)
TENANT_KEY=$(json_field "$KEYS" tenant_key)
start_server "$PORT"
HELLO_LISTEN="127.0.0.1:$HELLO_PORT" "$HELLO" & HELLO_PID=$!
api() { curl -sf -X POST "http://127.0.0.1:$PORT$1" -H "Authorization: Bearer $TENANT_KEY" -H 'Content-Type: application/json' -d "$2"; }
IDENTIFIER=https://api.bench.example
api /api/v1/resources "{\"name\":\"bench API\",\"identifier\":\"$IDENTIFIER\",\"scopes\":[\"orders:read\"]}" >/dev/null
KEY=$(json_field "$(api /api/v1/api_keys '{"name":"bench caller","scopes":["orders:read"]}')" key)
CLIENT=$(api /api/v1/clients '{"name":"bench caller","scopes":["orders:read"]}')
CLIENT_ID=$(json_field "$CLIENT" id); CLIENT_SECRET=$(json_field "$CLIENT" client_secret)
JWT=$(json_field "$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d scope=orders:read \
  --data-urlencode "resource=$IDENTIFIER" "http://127.0.0.1:$PORT/oauth/token")" access_token)
VERIFY="http://127.0.0.1:$PORT/verify?resource=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$IDENTIFIER")"
for credential in "$KEY" "$JWT"; do
  test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $credential" "$VERIFY")" = 200
done

# Redis commands per call: those the server sends (EVALSHA of the counting script; EVAL or
# SCRIPT LOAD should the script be missing), over the run, divided by the requests. The
# commandstats also count the INCR, EXPIRE, DECR and GET the script runs inside Redis, which are
# no round trip.
redis_calls() { redis-cli -u "$REDIS" info commandstats | awk -F'[=,:]' '/^cmdstat_(evalsha|eval|script)/ {s += $3} END {print s + 0}'; }

hello_and_verify() {
  local round=$1
  SERVER_PID=$HELLO_PID run_wrk "GET / hello-world baseline (round $round)" "the baseline" bench/report.lua \
    "http://127.0.0.1:$HELLO_PORT/" | tee "$WORKDIR/hello.out"
  # Half the hello-world's rate, for the paced runs below.
  local half; half=$(awk '/throughput/ {gsub(",", "", $2); print int($2 / 2)}' "$WORKDIR/hello.out")
  [ "${half:-0}" -gt 0 ] || { echo "no hello-world rate to pace at" >&2; exit 1; }
  for kind in "API key" JWT; do
    local credential=$KEY; [ "$kind" = JWT ] && credential=$JWT
    API_KEY=$credential run_wrk "GET /verify with an $kind (round $round)" ">= 0.5 of the baseline, p99 < 3 ms" bench/get.lua "$VERIFY"
    # Redis commands per call, over a short run of its own.
    local before; before=$(redis_calls)
    local result; result=$(API_KEY=$credential wrk -t1 -c"$CONNECTIONS" -d3s -s bench/get.lua "$VERIFY" | grep '^RESULT')
    local requests; requests=$(grep -o 'requests=[0-9]*' <<<"$result" | cut -d= -f2)
    python3 -c 'import sys; print(f"  Redis commands  {int(sys.argv[1]) / max(int(sys.argv[2]), 1):.2f} sent per call (target: 1)")' \
      "$(( $(redis_calls) - before ))" "$requests"
  done
  # The latency at the rate the target names (half the hello-world's) rather than at
  # saturation: wrk sends on a fixed schedule (bench/paced.lua); the hello-world at the same
  # rate beside it.
  SERVER_PID=$HELLO_PID API_KEY= RATE=$half run_wrk "GET / hello-world paced, $half requests/s asked (round $round)" \
    "the baseline's latency at this rate" bench/paced.lua "http://127.0.0.1:$HELLO_PORT/"
  for kind in "API key" JWT; do
    local credential=$KEY; [ "$kind" = JWT ] && credential=$JWT
    API_KEY=$credential RATE=$half run_wrk "GET /verify with an $kind paced, $half requests/s asked (round $round)" \
      "p99 < 3 ms at this rate" bench/paced.lua "$VERIFY"
  done
}
hello_and_verify 1
hello_and_verify 2

if command -v valgrind >/dev/null; then
  # A second hello-world, and a second Tollbooth on the same database and Redis (with the first
  # one's issuer, so that the JWT it issued holds there), under callgrind.
  HELLO_LISTEN="127.0.0.1:$((HELLO_PORT + 10))" run_callgrind "GET / hello-world baseline, under callgrind" \
    "http://127.0.0.1:$((HELLO_PORT + 10))/" bench/report.lua "$HELLO"
  for kind in "API key" JWT; do
    credential=$KEY; [ "$kind" = JWT ] && credential=$JWT
    API_KEY=$credential TOLLBOOTH_LISTEN="127.0.0.1:$((PORT + 10))" TOLLBOOTH_ISSUER="http://127.0.0.1:$PORT" \
      run_callgrind "GET /verify with an $kind, under callgrind" "${VERIFY/:$PORT/:$((PORT + 10))}" bench/get.lua \
      "$BIN" --config "$BENCH_CONFIG" serve
  done
else
  echo "skipped: instructions per request (install valgrind)"
fi

if command -v nginx >/dev/null; then
  mkdir -p "$WORKDIR/nginx"
  cat >"$WORKDIR/nginx/nginx.conf" <<NGINX
daemon off; pid $WORKDIR/nginx/pid; error_log $WORKDIR/nginx/error.log warn; worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORKDIR/nginx/body; proxy_temp_path $WORKDIR/nginx/proxy;
  fastcgi_temp_path $WORKDIR/nginx/fastcgi; uwsgi_temp_path $WORKDIR/nginx/uwsgi; scgi_temp_path $WORKDIR/nginx/scgi;
  upstream api { server 127.0.0.1:$HELLO_PORT; keepalive 64; }
  upstream tollbooth { server 127.0.0.1:$PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /direct/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://api/; }
    location /guarded/ { auth_request /_verify; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://api/; }
    location = /_verify {
      internal;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass http://tollbooth/verify?resource=https%3A%2F%2Fapi.bench.example&limited_status=403;
      proxy_pass_request_body off; proxy_set_header Content-Length "";
    }
  }
}
NGINX
  nginx -p "$WORKDIR/nginx" -c "$WORKDIR/nginx/nginx.conf" -e "$WORKDIR/nginx/error.log" & NGINX_PID=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/direct/" && break; sleep 0.1; done
  test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$NGINX_PORT/guarded/")" = 200
  # The "server CPU" of these rows is Tollbooth's: none for the direct route.
  for round in 1 2; do
    API_KEY=$KEY run_wrk "nginx -> API directly (round $round)" "the baseline" bench/get.lua "http://127.0.0.1:$NGINX_PORT/direct/"
    API_KEY=$KEY run_wrk "nginx -> auth_request to Tollbooth -> API (round $round)" "compare" bench/get.lua "http://127.0.0.1:$NGINX_PORT/guarded/"
  done
else
  echo "skipped: the nginx comparison (install Debian's nginx)"
fi
