#!/usr/bin/env bash
# Installs everything loadd needs to build, test and benchmark, from Debian's
# archive only. Safe to run again; does nothing that is already done.
set -euo pipefail

build_deps=(
  build-essential cmake pkg-config
  libpistache-dev rapidjson-dev libnng-dev libmbedtls-dev libcurl4-openssl-dev
  libsystemd-dev libgtest-dev libgmock-dev googletest libcli11-dev
  zlib1g-dev libssl-dev libhttp-parser-dev
)
# Peer tools and targets used by tests and bench/.
tool_deps=(curl python3 wrk nginx-light)
# tests/e2e/test_http_options.py and test_rest_security.py make their CAs and
# certificates with the openssl CLI.
tool_deps+=(openssl)
# tests/e2e/test_schema.py checks docs/plan.schema.json with it.
tool_deps+=(python3-jsonschema)
# tests/e2e/test_worker_faults.py cuts a worker's link with `ip` (netns, veth).
tool_deps+=(iproute2)
# tests/deploy: systemd containers, Ansible over SSH, and the linters of ansible/.
tool_deps+=(debootstrap systemd-container ansible ansible-lint yamllint openssh-client)

# Node.js runs test-only checks with other projects' libraries (tests/js).
command -v npm >/dev/null 2>&1 || tool_deps+=(nodejs npm)

want=()
for p in "${build_deps[@]}" "${tool_deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
done
install_js() {
  local js_dir
  js_dir="$(dirname "$0")/../tests/js"
  if [ ! -d "$js_dir/node_modules/hdr-histogram-js" ]; then
    (cd "$js_dir" && npm ci --silent --no-audit --no-fund)
  fi
}

if [ ${#want[@]} -eq 0 ]; then
  install_js
  echo "install-deps: everything is installed"
  exit 0
fi
echo "install-deps: installing ${want[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${want[@]}"
# nginx-light's package starts a system nginx on port 80; our benches run their
# own instance on a port of their choosing, so the packaged one is not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
install_js
