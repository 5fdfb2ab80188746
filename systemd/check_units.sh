#!/usr/bin/env bash
# Checks the systemd units as installed: `systemd-analyze verify` must print
# nothing for each (loadd@.service as the instance loadd@0.service), and
# `systemd-analyze security` must rate each service at an exposure of at
# most 2.0. Prints the figures.
#
#   LOADD_BIN_DIR=build/bin systemd/check_units.sh systemd
#
# LOADD_BIN_DIR is where the units' ExecStart finds loadd (verify checks
# that it exists and is executable).
set -euo pipefail
src="${1:-$(dirname "$0")}"
bin="${LOADD_BIN_DIR:?LOADD_BIN_DIR must name the folder that holds loadd}"
max_exposure="2.0"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for in in "$src"/*.in; do
  sed -e "s|@LOADD_BIN_DIR@|$bin|g" -e "s|@LOADD_DOC_DIR@|/usr/share/doc/loadd|g" \
    "$in" >"$dir/$(basename "$in" .in)"
done
cp "$src/loadd.slice" "$dir/"

failed=0
for unit in loadd@0.service loadd-coordinator.service loadd.target loadd.slice; do
  out=$(cd "$dir" && systemd-analyze verify --man=no "./$unit" 2>&1) || failed=1
  if [ -n "$out" ]; then
    echo "systemd-analyze verify $unit:" >&2
    echo "$out" >&2
    failed=1
  else
    echo "verify $unit: ok"
  fi
done
for unit in loadd@0.service loadd-coordinator.service; do
  report=$(cd "$dir" && systemd-analyze security --offline=yes "./$unit" 2>&1) || true
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
  if [ -z "$level" ]; then
    echo "systemd-analyze security $unit gave no exposure level:" >&2
    echo "$report" >&2
    failed=1
  elif awk -v a="$level" -v b="$max_exposure" 'BEGIN { exit !(a > b) }'; then
    echo "security $unit: exposure $level, above $max_exposure; what counts:" >&2
    grep "✗" <<<"$report" >&2
    failed=1
  else
    echo "security $unit: exposure $level (at most $max_exposure)"
  fi
done
exit "$failed"
