#!/usr/bin/env bash
# Installs what loadd needs from Debian's archive only (and web/'s chart
# library with npm). Safe to run again; does nothing that is already done.
#
#   scripts/install-deps.sh         everything: build, tests, benchmarks
#                                   (scripts/test.sh and CI)
#   scripts/install-deps.sh build   only what building loadd and loadctl and
#                                   running them needs (scripts/demo.sh): no
#                                   test framework, browser, Ansible or Locust
set -euo pipefail

mode="${1:-all}"
case "$mode" in
  all | build) ;;
  *) echo "usage: install-deps.sh [build]" >&2; exit 2 ;;
esac

# Building loadd and loadctl (-DLOADD_BUILD_TESTS=OFF).
build_deps=(
  build-essential cmake pkg-config
  libpistache-dev rapidjson-dev libnng-dev libmbedtls-dev libcurl4-openssl-dev
  libsystemd-dev libcli11-dev
  zlib1g-dev libssl-dev libhttp-parser-dev libre2-dev
)
# Running the demo: scripts/demo.sh reads the target's counters with curl.
build_deps+=(curl)
# npm brings web/'s chart library (uPlot), which the build embeds into loadd
# and loadctl. Debian 12's own nodejs (18) and npm (9) do; so does a newer
# Node.js that comes with its npm.
command -v npm >/dev/null 2>&1 || build_deps+=(nodejs npm)

# The unit tests (-DLOADD_BUILD_TESTS=ON, the default).
tool_deps=(libgtest-dev libgmock-dev googletest)
# Peer tools and targets used by tests and bench/.
tool_deps+=(python3 wrk nginx-light)
# scripts/check-format.sh (CI) holds every C++ file to .clang-format.
tool_deps+=(clang-format)
# scripts/check-thread-safety.sh (CI) and scripts/fuzz.sh compile with Clang.
tool_deps+=(clang)
# tests/e2e/test_http_options.py and test_rest_security.py make their CAs and
# certificates with the openssl CLI.
tool_deps+=(openssl)
# tests/e2e/test_schema.py checks docs/plan.schema.json with it.
tool_deps+=(python3-jsonschema)
# tests/e2e/test_metrics.py parses GET /metrics with Prometheus's parser;
# test_api_contract.py reads docs/openapi.yaml.
tool_deps+=(python3-prometheus-client python3-yaml)
# tests/e2e/test_compare_stats.py checks the comparison statistics against
# scipy; test_compare.py parses `loadctl compare --format markdown` with
# markdown-it (issue 17).
tool_deps+=(python3-scipy python3-markdown-it)
# tests/e2e/test_worker_faults.py cuts a worker's link with `ip` (netns, veth).
tool_deps+=(iproute2)
# tests/deploy: systemd containers, Ansible over SSH, and the linters of ansible/.
tool_deps+=(debootstrap systemd-container ansible ansible-lint yamllint openssh-client)

# bench/peers.py runs these peer load generators beside loadd (autocannon
# comes from npm: bench/package.json); bench/callgrind_ir.py needs valgrind.
tool_deps+=(hey apache2-utils python3-locust valgrind)

# tests/ui drives the dashboard and the HTML report in headless Chromium
# (playwright-core with the system's browser; nothing else is downloaded).
tool_deps+=(chromium)

# Node.js also runs test-only checks with other projects' libraries
# (tests/js, tests/ui, tests/api; npm ci below). Those need Node.js 20.19 or
# newer (tests/ui's playwright-core needs 20, tests/api's @redocly/cli 20.19),
# which Debian 12 does not have (its nodejs is 18): say so before installing
# anything rather than fail later in a test.
if [ "$mode" = all ]; then
  node_ok=0
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' && node_ok=1
  fi
  if [ "$node_ok" = 0 ]; then
    echo "install-deps: the tests need Node.js 20.19 or newer with its npm; found:" \
      "$(node --version 2>/dev/null || echo 'no node') $(npm --version 2>/dev/null || echo 'no npm')." \
      "Debian 12's own nodejs (18) is enough for scripts/demo.sh (install-deps.sh build)," \
      "not for the tests: install Node.js 20 or newer (it comes with npm), then run this again." >&2
    exit 1
  fi
fi

wanted=("${build_deps[@]}")
[ "$mode" = build ] || wanted+=("${tool_deps[@]}")
want=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
done
install_js() {
  local root
  root="$(dirname "$0")/.."
  # Each folder with a package-lock.json, and a module its node_modules must
  # hold; building needs only web/.
  local pkg dir module pkgs=(web:uplot)
  [ "$mode" = build ] || pkgs+=(tests/js:hdr-histogram-js tests/ui:playwright-core
                                bench:autocannon tests/api:@redocly/cli)
  for pkg in "${pkgs[@]}"; do
    dir="$root/${pkg%%:*}" module="${pkg#*:}"
    if [ ! -d "$dir/node_modules/$module" ]; then
      (cd "$dir" && npm ci --loglevel=error --no-audit --no-fund)
    fi
  done
}

if [ ${#want[@]} -eq 0 ]; then
  install_js
  echo "install-deps: everything is installed ($mode)"
  exit 0
fi
echo "install-deps: installing ${want[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# No translated package descriptions: nothing here reads them, and bookworm's
# English ones alone are 6.1 MB to download (beside 8.8 MB of package lists)
# and 33 MB to decompress and index.
$SUDO apt-get update -q -o Acquire::Languages=none
# --force-unsafe-io: dpkg does not fsync every file it unpacks (as Debian's
# container images do). npm alone is about 360 small Debian packages; on the
# 2-core machine this cut their install from 174 s to 112 s, and the build's
# own packages from 69 s to 25 s. Only a crash in the middle of the install
# could leave a package to reinstall.
$SUDO apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-unsafe-io "${want[@]}"
# nginx-light's package starts a system nginx on port 80; our benches run their
# own instance on a port of their choosing, so the packaged one is not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
install_js
