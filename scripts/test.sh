#!/usr/bin/env bash
# The README's test command: install dependencies, build with warnings as
# errors, and run every test (unit tests and end-to-end tests with the real
# binaries on loopback) through ctest; then the fuzz targets; then the whole
# suite again built with AddressSanitizer + UndefinedBehaviorSanitizer (but
# the few tests labelled plain-only, tests/CMakeLists.txt).
#
#   scripts/test.sh             everything (what CI runs, through .ci/run)
#   scripts/test.sh sanitize    only the sanitizer stage
#
#   LOADD_SKIP_SANITIZE=1   skip the sanitizer stage (local use; CI runs it)
#   LOADD_ALLOW_SKIPS=1     list the skipped tests of tests/must_run.txt but do
#                           not fail on them (local use, e.g. not as root)
#   LOADD_JOBS=N            parallel build and test jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${LOADD_JOBS:-$(nproc)}"

# Builds build-asan/ with -DLOADD_SANITIZE=ON and runs the ctest suite there
# but the tests labelled plain-only. Any ASan, LSan or UBSan report fails the stage: each process halts
# at its first report and writes it under build-asan/sanitizer-logs/ (daemons
# started by the e2e tests too, whose stderr no one reads), and the reports
# are printed at the end. The e2e tests see LOADD_SANITIZED=1 and relax only
# their timing and latency bounds.
sanitize() {
  local build=build-asan
  local logs="$PWD/$build/sanitizer-logs"
  local t0 t1 t2 c0 c1 c2 status=0
  count_cpu; t0=$(date +%s) c0=$cpu_s
  # A unity build at -O1 with line tables only (enough for the reports' file
  # and line): the sanitizers' build was CI's largest single cost. -O1 is
  # what ASan's documentation suggests for tests.
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOADD_SANITIZE=ON -DLOADD_BUILD_TESTS=ON \
    -DLOADD_UNITY=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
  cmake --build "$build" -j"$jobs"
  count_cpu; t1=$(date +%s) c1=$cpu_s

  # Leak checking needs ptrace-like access to stop the process's threads,
  # which some containers deny; probe it rather than guess.
  local leaks=0
  if leak_check_works; then leaks=1; else
    echo "sanitize: LeakSanitizer does not work here; leak checking is off" >&2
  fi
  rm -rf "$logs"
  mkdir -p "$logs"
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=$leaks:check_initialization_order=1:log_path=$logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp"
  export LOADD_SANITIZED=1
  # -LE plain-only: tests with no C++ of ours in them, or timing ones the
  # sanitized build cannot meet (tests/CMakeLists.txt says which and why).
  ctest --test-dir "$build" --output-on-failure -j"$jobs" -LE plain-only \
    --output-junit "$PWD/$build/ctest-junit.xml" || status=$?
  check_skips sanitize "$build/ctest-junit.xml" || status=1
  count_cpu; t2=$(date +%s) c2=$cpu_s
  unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS LOADD_SANITIZED

  local reports
  reports=$(find "$logs" -type f | sort)
  if [ -n "$reports" ]; then
    status=1
    echo "sanitize: sanitizer reports (one file per process):" >&2
    for f in $reports; do
      echo "=== $f" >&2
      head -n 60 "$f" >&2
    done
  fi
  echo "sanitize: build $((t1 - t0)) s (CPU $((c1 - c0)) s), tests $((t2 - t1)) s" \
       "(CPU $((c2 - c1)) s), $jobs jobs, leak checks $([ $leaks = 1 ] && echo on || echo off)"
  return "$status"
}

source scripts/cpu_time.sh  # count_cpu (the working directory is the checkout)

# Lists the tests ctest did not run and fails when one of tests/must_run.txt
# is among them (a skip there is a broken CI machine, not a pass).
check_skips() {
  local stage=$1 junit=$2
  python3 scripts/check-skips.py --stage "$stage" "$junit" && return 0
  if [ "${LOADD_ALLOW_SKIPS:-0}" = 1 ]; then
    echo "test: must-run tests skipped, allowed by LOADD_ALLOW_SKIPS=1" >&2
    return 0
  fi
  return 1
}

# True when LeakSanitizer can run: a tiny leaking program must be reported.
leak_check_works() {
  local dir out
  dir=$(mktemp -d)
  printf '#include <stdlib.h>\nvoid* volatile p;\nint main(void) { p = malloc(7); p = 0; return 0; }\n' >"$dir/leak.c"
  if ! cc -fsanitize=address -g "$dir/leak.c" -o "$dir/leak" 2>/dev/null; then
    rm -rf "$dir"
    return 1
  fi
  out=$(ASAN_OPTIONS=detect_leaks=1 "$dir/leak" 2>&1 || true)
  rm -rf "$dir"
  grep -q "detected memory leaks" <<<"$out"
}

if [ "${1:-}" = sanitize ]; then
  sanitize
  exit
fi

# Each stage prints its wall time (CI must stay under 60 minutes on 2 cores).
stage_t=$(date +%s)
stage() { local now; now=$(date +%s); echo "test: $1 took $((now - stage_t)) s" >&2; stage_t=$now; }
bash scripts/install-deps.sh
bash scripts/check-format.sh
stage "installing and the format check"
# The deploy test's root file system (debootstrap: minutes of downloading, a
# first-run cost on CI) is fetched while the compiler keeps the cores busy;
# the test waits for it (rootfs.sh holds a lock) and finds it cached.
mkdir -p build
rootfs_log="$PWD/build/deploy-rootfs.log"
if [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null; then
  bash tests/deploy/rootfs.sh >"$rootfs_log" 2>&1 &
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOADD_WERROR=ON -DLOADD_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
stage "the plain build"
# Clang's -Wthread-safety over the files that use common/mutex.h (syntax only).
bash scripts/check-thread-safety.sh build
stage "the thread-safety check"
status=0
ctest --test-dir build --output-on-failure -j"$jobs" \
  --output-junit "$PWD/build/ctest-junit.xml" || status=$?
check_skips plain build/ctest-junit.xml || status=1
stage "the plain tests"
[ "$status" = 0 ] || exit "$status"
# libFuzzer targets (plan parser, bus decoder, histogram decoder), each for
# a bounded 30 s; any finding fails the run.
bash scripts/fuzz.sh 30
stage "the fuzz build and runs"

if [ "${LOADD_SKIP_SANITIZE:-0}" = 1 ]; then
  echo "test: sanitizer stage skipped (LOADD_SKIP_SANITIZE=1)"
  exit 0
fi
sanitize
