#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with Clang (ASan + UBSan) in
# build-fuzz/ and runs each for SECONDS (default 60) on a scratch copy of its
# seed corpus. Prints one line per target with its executions; exits 1 when
# any target found a crash, a leak, a sanitizer report or a broken round
# trip (the input is saved under build-fuzz/findings/<target>/).
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS]   (seconds per target, default 60)" >&2
  exit 2
fi

if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "fuzz: installing clang" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi

targets=(plan_fuzz wire_fuzz hdr_histogram_fuzz body_regex_fuzz)
targets+=(rest_fuzz)  # REST request reading (daemon/coordinator/rest_reader.h)
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLOADD_FUZZ=ON -DLOADD_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"$(nproc)"

# Stacks for UBSan reports too (ASan prints them by default).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
failed=0
summary=()
for target in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/${target%_fuzz}"
  work="$build/corpus/$target"
  findings="$build/findings/$target"
  log="$build/logs/$target.log"
  rm -rf "$work"
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  cp "$seeds"/* "$work"/
  # Histogram seeds are base64 text in the repository; give the binary
  # decoder its own copies too.
  for b64 in "$work"/*.b64; do
    [ -e "$b64" ] && base64 -d "$b64" >"${b64%.b64}.bin" 2>/dev/null || true
  done
  echo "fuzz: $target for ${seconds}s (log: $log)" >&2
  status=0
  "$build/tests/fuzz/$target" "$work" -max_total_time="$seconds" -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
    >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" |
         tail -n 1)
  # A run that stops at a finding prints no "Done" line, only its stats.
  [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1 runs/p' \
                           "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    summary+=("$target: FAILED (exit $status) after ${runs:-? runs}; input ${artifact:-?}; see $log")
    grep -m 1 -E "ERROR: |runtime error|_fuzz: " "$log" >&2 || true
  else
    summary+=("$target: ok, ${runs:-? runs}, corpus $(ls "$work" | wc -l) inputs")
  fi
done

printf '%s\n' "${summary[@]}"
exit "$failed"
