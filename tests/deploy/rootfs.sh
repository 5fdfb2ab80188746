#!/usr/bin/env bash
# Builds (once) the Debian bookworm root file system that tests/deploy boots
# as its coordinator and worker hosts, and prints its path.
#
#   tests/deploy/rootfs.sh            build if missing, print the path
#
# The tree is cached under $LOADD_DEPLOY_CACHE (default
# /var/cache/loadd-deploy), in a folder named after a hash of this script, so
# a change to the package list builds a fresh one and reruns cost nothing.
# Remove the folder to force a rebuild. The containers get no network to the
# mirror, so everything the hosts need at run time is installed here: systemd,
# sshd and python3 for Ansible (python3-apt for its apt module), and the
# runtime libraries the loadd .deb depends on.
set -euo pipefail

cache="${LOADD_DEPLOY_CACHE:-/var/cache/loadd-deploy}"
# The Debian archive this machine's apt uses (not its security archive),
# unless LOADD_DEPLOY_MIRROR names one.
apt_mirror() {
  local uris
  uris=$( (grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
           awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2) }' /etc/apt/sources.list \
             /etc/apt/sources.list.d/*.list 2>/dev/null) | grep -v -- '-security' || true)
  head -n 1 <<<"$uris"
}
mirror="${LOADD_DEPLOY_MIRROR:-$(apt_mirror)}"
if [ -z "$mirror" ]; then
  echo "rootfs.sh: no Debian archive found in /etc/apt; set LOADD_DEPLOY_MIRROR" >&2
  exit 1
fi
packages=(
  systemd systemd-sysv dbus libpam-systemd openssh-server python3 python3-apt
  iproute2 procps
  # The loadd .deb's runtime dependencies (dpkg-shlibdeps), so that
  # `apt install ./loadd.deb` needs no mirror inside the container.
  libcurl4 libpistache0 libnng1 libssl3 zlib1g libhttp-parser2.9 libsystemd0 libre2-9
  libstdc++6 libgcc-s1
)
# Strip comments from the list above when hashing: only names matter.
key=$(printf '%s\n' "${packages[@]}" "$mirror" | sha256sum | cut -c1-12)
root="$cache/bookworm-$key"

if [ -f "$root/.loadd-complete" ]; then
  echo "$root"
  exit 0
fi

command -v debootstrap >/dev/null || {
  echo "rootfs.sh: debootstrap is missing; run scripts/install-deps.sh" >&2; exit 1; }
mkdir -p "$cache"
# One build at a time: scripts/test.sh starts one in the background while it
# compiles, and the deploy test's own call waits here for it to finish.
exec 9>"$cache/.lock"
flock 9
if [ -f "$root/.loadd-complete" ]; then
  echo "$root"
  exit 0
fi
tmp="$root.partial"
rm -rf "$tmp"
include=$(IFS=,; echo "${packages[*]}")
echo "rootfs.sh: debootstrap bookworm into $tmp (first run only, a few minutes)" >&2
debootstrap --variant=minbase --include="$include" bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
  echo "rootfs.sh: debootstrap failed; last lines of $cache/debootstrap.log:" >&2
  tail -n 20 "$cache/debootstrap.log" >&2
  exit 1
}

# Host-independent settings. Each test host gets its own hostname, machine id
# and addresses when the test copies the tree.
chroot "$tmp" apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/*
: >"$tmp/etc/machine-id"
# Root logs in over SSH with a key only; the test adds its own key.
mkdir -p "$tmp/root/.ssh"
chmod 0700 "$tmp/root/.ssh"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' \
  >"$tmp/etc/ssh/sshd_config.d/loadd-test.conf"
# Nothing in the containers needs these, and they slow the boot down.
for unit in systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer \
            e2scrub_all.timer fstrim.timer man-db.timer dpkg-db-backup.timer \
            getty@tty1.service; do
  chroot "$tmp" systemctl mask "$unit" >/dev/null 2>&1 || true
done
touch "$tmp/.loadd-complete"
mv "$tmp" "$root"
echo "$root"
