#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) each, from the seeds in fuzz/seeds/ and
# the corpus earlier runs grew in fuzz/corpus/ (docs/testing.md, "Fuzzing"), and prints each
# target's executions and crashes. Exits non-zero if any target crashed; the crashing input is
# in fuzz/artifacts/<target>/ (make it a regression test, then fix). Installs cargo-fuzz if
# missing. The toolchain here is stable: RUSTC_BOOTSTRAP lets it take cargo-fuzz's -Z flags.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
# No sanitizer: our code forbids unsafe, and ASan would not see into the C libraries we link
# (they are not rebuilt with it); libFuzzer's coverage and Rust's panics find what there is.
FLAGS=(--sanitizer none --release)
cargo fuzz build "${FLAGS[@]}"
targets=$(cargo fuzz list)
failed=0
printf '%-24s %12s %10s %8s\n' target executions exec/s crashes
for target in $targets; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log=$(mktemp)
  status=0
  # The config target also starts from the repository's own config files.
  extra=(); [ "$target" = config ] && extra=(../config)
  cargo fuzz run "${FLAGS[@]}" "$target" "corpus/$target" "seeds/$target" "${extra[@]}" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  executions=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log" | tail -1)
  speed=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log" | tail -1)
  crashes=0
  if [ "$status" -ne 0 ]; then
    crashes=1; failed=1
    echo "--- $target failed (exit $status):"; grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20
  fi
  printf '%-24s %12s %10s %8s\n' "$target" "${executions:-?}" "${speed:-?}" "$crashes"
  rm -f "$log"
done
exit "$failed"
