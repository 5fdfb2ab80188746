#!/usr/bin/env bash
# The README's demo: install what building and running need, build loadd and
# loadctl, start `loadd target`, and run a local fleet (a coordinator and one
# worker per core) against it with `loadctl start --local`, which prints the
# report. Everything on loopback. No test framework, browser or test tool is
# installed and no test is built: scripts/test.sh does that.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh build
# Optimized as RelWithDebInfo (-O2) but without debug info, which costs about
# a fifth of the compile time (ctl/commands.cc: 17.8 s of CPU with -g, 13.9 s
# without). scripts/test.sh reconfigures it as RelWithDebInfo.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DLOADD_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target loadd loadctl

target_out=$(mktemp)
./build/bin/loadd target --listen 127.0.0.1:0 >"$target_out" 2>/dev/null &
target_pid=$!
trap 'kill $target_pid 2>/dev/null; rm -f "$target_out"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$target_out" && break; sleep 0.1; done
target="http://$(awk '/listening on/ {print $3}' "$target_out")"

echo "== loadctl start --local --users 100 --spawn-rate 50 --duration 10s --target $target/delay/20ms"
./build/bin/loadctl start --local --users 100 --spawn-rate 50 --duration 10s \
  --target "$target/delay/20ms"
echo "== the target served: $(curl -s "$target/__stats")"
