#!/usr/bin/env bash
# The README's demo: install dependencies, build, start `loadd target`, and
# run a local fleet (a coordinator and one worker per core) against it with
# `loadctl start --local`, which prints the report. Everything on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

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
