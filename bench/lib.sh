# Shared by bench/*.sh: start the release server, run wrk, print figures.
BIN=${BENCH_BIN:-./target/release/tollbooth}
BENCH_CONFIG=${BENCH_CONFIG:-bench/unmetered.toml}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
DURATION=${BENCH_DURATION:-10s}

# start_server PORT: runs the server with the current TOLLBOOTH_* settings; sets SERVER_PID.
start_server() {
  "$BIN" --config "$BENCH_CONFIG" serve >"$WORKDIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "the server did not start:" >&2; cat "$WORKDIR/server.log" >&2; return 1
}

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# run_wrk TITLE TARGET SCRIPT URL: warms up 2 s (unless WARMUP=0), measures, prints the figures.
run_wrk() {
  local title=$1 target=$2 script=$3 url=$4
  [ "${WARMUP:-1}" = 0 ] || wrk -t1 -c"$CONNECTIONS" -d2s -s "$script" "$url" >/dev/null
  local server_before postgres_before; server_before=$(server_cpu_ticks); postgres_before=$(postgres_cpu_ticks)
  local out; out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$script" "$url")
  python3 - "$(grep '^RESULT' <<<"$out")" "$title" "$target" "$CONNECTIONS" "$(getconf CLK_TCK)" \
    "$(( $(server_cpu_ticks) - server_before ))" "$(( $(postgres_cpu_ticks) - postgres_before ))" <<'PY'
import sys
fields = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
requests, seconds = int(fields["requests"]), int(fields["duration_us"]) / 1e6
tick = 1 / int(sys.argv[5])
print(f"{sys.argv[2]} — {sys.argv[4]} connections, {seconds:.1f} s")
print(f"  throughput      {requests / seconds:,.0f} requests/s  ({sys.argv[3]})")
print(f"  latency p50     {int(fields['p50_us']) / 1000:.2f} ms")
print(f"  latency p99     {int(fields['p99_us']) / 1000:.2f} ms")
print(f"  non-2xx answers {fields['non2xx']}  (socket errors {fields['errors']})")
for name, ticks in (("server CPU", int(sys.argv[6])), ("PostgreSQL CPU", int(sys.argv[7]))):
    if ticks > 0:
        cpu = ticks * tick
        print(f"  {name:15} {cpu / seconds:.2f} cores, {cpu / max(requests, 1) * 1e6:.0f} µs per request")
PY
}

# User + system CPU so far, in clock ticks, of the server and of local PostgreSQL processes:
# CPU per request varies less from run to run than throughput does on a shared machine.
server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
postgres_cpu_ticks() {
  [[ ${TOLLBOOTH_DATABASE_URL:-} == postgres* ]] || { echo 0; return; }
  local pids; pids=$(pgrep -x postgres | sed 's|^|/proc/|; s|$|/stat|')
  # shellcheck disable=SC2086
  [ -n "$pids" ] && cat $pids 2>/dev/null | awk '{s += $14 + $15} END {print s + 0}' || echo 0
}

peak_rss() { echo "  server peak RSS $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$SERVER_PID/status")"; }

# run_callgrind TITLE URL SCRIPT COMMAND...: starts COMMAND (a server answering URL) under
# valgrind's callgrind and prints the instructions it ran per request over a 5 s wrk run of 4
# connections, after a warm-up; every answer must be 2xx. The count does not drift with the
# machine's load as time does, so two builds compare without pairing (docs/capacity.md,
# "Instructions per request"). User space only: the kernel's work is not in it. Sets
# CALLGRIND_PID while the server runs, for the caller's exit trap.
run_callgrind() {
  local title=$1 url=$2 script=$3; shift 3
  local out="$WORKDIR/callgrind.$RANDOM"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$out.log" 2>&1 &
  CALLGRIND_PID=$!
  local ready=0
  for _ in $(seq 300); do curl -s -o /dev/null "$url" && { ready=1; break; }; sleep 0.1; done
  if [ "$ready" = 0 ]; then
    echo "$title: the server did not start under callgrind:" >&2; cat "$out.log" >&2; return 1
  fi
  wrk -t1 -c4 -d3s -s "$script" "$url" >/dev/null
  callgrind_control -z "$CALLGRIND_PID" >/dev/null 2>&1
  local result; result=$(wrk -t1 -c4 -d5s -s "$script" "$url" | grep '^RESULT' || true)
  callgrind_control -d "$CALLGRIND_PID" >/dev/null 2>&1
  kill "$CALLGRIND_PID" 2>/dev/null || true; wait "$CALLGRIND_PID" 2>/dev/null || true; CALLGRIND_PID=
  local requests non2xx instructions
  requests=$(grep -o 'requests=[0-9]*' <<<"$result" | cut -d= -f2 || true)
  non2xx=$(grep -o 'non2xx=[0-9]*' <<<"$result" | cut -d= -f2 || true)
  instructions=$(callgrind_annotate "$out.1" 2>&1 | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' || true)
  if [ -z "$requests" ] || [ "$requests" = 0 ] || [ "$non2xx" != 0 ] || [ -z "$instructions" ]; then
    echo "$title: no count (requests ${requests:-none}, non-2xx ${non2xx:-none}, instructions ${instructions:-none}):" >&2
    cat "$out.log" >&2; return 1
  fi
  python3 -c 'import sys; print(f"{sys.argv[1]}\n  instructions    {int(sys.argv[2]) / int(sys.argv[3]):,.0f} per request ({int(sys.argv[3]):,} requests under callgrind)")' \
    "$title" "$instructions" "$requests"
}
