#!/usr/bin/env bash
# The README's demo: install what building and running need, build loadd and
# loadctl, start `loadd target`, and run a local fleet (a coordinator and one
# worker per core) against it with `loadctl start --local`, which prints the
# report. Everything on loopback. No test framework, browser or test tool is
# installed and no test is built: scripts/test.sh does that. At the end it
# says how long each step took: wall time, and the CPU time (user + system)
# of the processes it ran and waited for (not the background `loadd target`).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/cpu_time.sh  # count_cpu (the working directory is the checkout)
steps=""
t_last=$(date +%s) cpu_last=0
step_done() {  # step_done NAME: adds "NAME Ns (CPU Ms)" to the summary
  local now
  count_cpu
  now=$(date +%s)
  steps+="${steps:+, }$1 $((now - t_last)) s (CPU $((cpu_s - cpu_last)) s)"
  t_last=$now cpu_last=$cpu_s
}

bash scripts/install-deps.sh build
step_done install

# The Quick build type (CMakeLists.txt): -O1, no debug info, a unity build.
# For these two programs it took 156 s of CPU where -O2 without debug info,
# one source at a time, took 490 s (2-core machine, g++ 12). scripts/test.sh
# reconfigures build/ as RelWithDebInfo.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Quick -DLOADD_BUILD_TESTS=OFF >/dev/null
step_done configure
cmake --build build -j"$(nproc)" --target programs  # loadd and loadctl
step_done build

target_out=$(mktemp)
./build/bin/loadd target --listen 127.0.0.1:0 >"$target_out" 2>/dev/null &
target_pid=$!
trap 'kill $target_pid 2>/dev/null; rm -f "$target_out"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$target_out" && break; sleep 0.1; done
target="http://$(awk '/listening on/ {print $3}' "$target_out")"

echo "== loadctl start --local --users 50 --spawn-rate 50 --duration 5s --target $target/delay/20ms"
./build/bin/loadctl start --local --users 50 --spawn-rate 50 --duration 5s \
  --target "$target/delay/20ms"
echo "== the target served: $(curl -s "$target/__stats")"
step_done run
echo "== demo: $steps"
