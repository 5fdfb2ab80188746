#!/usr/bin/env bash
# The README's test command: install dependencies, build with warnings as
# errors, and run every test (unit tests and end-to-end tests with the real
# binaries on loopback) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOADD_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
# libFuzzer targets (plan parser, bus decoder, histogram decoder), each for
# a bounded 30 s; any finding fails the run.
bash scripts/fuzz.sh 30
