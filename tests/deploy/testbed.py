"""A test network of Debian bookworm hosts booted with real systemd
(systemd-nspawn), for tests/deploy. Standard library only; needs root.

Every host is an overlay on one cached root file system (rootfs.sh), boots
with `systemd-nspawn --boot` inside a network namespace of its own, and has
one address on a bridge that only this test's namespaces are plugged into.
The host running the test gets no address there: the controller (Ansible,
checks) runs in a namespace of its own on the same bridge.

All names start with "ldd" and everything lives under WORK_ROOT, so a run
killed before it could clean up is cleaned up by the next one (cleanup()
runs first, too).
"""

import os
import shutil
import signal
import subprocess
import time
import uuid

WORK_ROOT = os.environ.get("LOADD_DEPLOY_WORK", "/var/tmp/loadd-deploy-test")
BRIDGE = "lddbr0"
# A subnet on the test bridge only: the controller and the target namespace
# and the booted hosts are its only members.
SUBNET = "10.213.77"
NSPAWN_RUN = "/run/systemd/nspawn"
NSPAWN_TAG = "loadd-deploy"  # source name of the tmpfs mounted there


def run(cmd, timeout=60, check=True, **kw):
    """subprocess.run with text output and a bound; raises with the output."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def netns_exists(name):
    return os.path.exists(f"/run/netns/{name}")


class Netns:
    """A network namespace with one veth on the bridge and one address."""

    def __init__(self, name, address):
        self.name, self.address = name, address

    def create(self):
        veth = "v" + self.name  # host side, at most 15 characters
        run(["ip", "netns", "add", self.name])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
             "netns", self.name])
        run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
        run(["ip", "-n", self.name, "addr", "add", f"{self.address}/24", "dev", "eth0"])
        run(["ip", "-n", self.name, "link", "set", "eth0", "up"])
        run(["ip", "-n", self.name, "link", "set", "lo", "up"])

    def exec(self, cmd, **kw):
        return run(["ip", "netns", "exec", self.name] + cmd, **kw)

    def popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + cmd, **kw)


class Host:
    """One booted container: an overlay root, systemd-nspawn, its netns."""

    def __init__(self, name, address, rootfs, ssh_pubkey):
        self.name = name
        self.netns = Netns("ldd-" + name, address)
        self.address = address
        self.lower = rootfs
        self.dir = os.path.join(WORK_ROOT, "hosts", name)
        self.root = os.path.join(self.dir, "root")
        self.ssh_pubkey = ssh_pubkey
        self.proc = None
        self.console = None

    def prepare(self):
        for sub in ("upper", "work", "root"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={self.lower},upperdir={self.dir}/upper,workdir={self.dir}/work",
             self.root])
        with open(os.path.join(self.root, "etc/hostname"), "w") as f:
            f.write(self.name + "\n")
        with open(os.path.join(self.root, "etc/machine-id"), "w") as f:
            f.write(uuid.uuid4().hex + "\n")
        # Nothing to remount in a container (the root is our overlay); on a
        # busy machine this unit has been seen to fail and degrade the boot.
        mask = os.path.join(self.root, "etc/systemd/system/systemd-remount-fs.service")
        if not os.path.lexists(mask):
            os.symlink("/dev/null", mask)
        keys = os.path.join(self.root, "root/.ssh/authorized_keys")
        with open(keys, "w") as f:
            f.write(self.ssh_pubkey)
        os.chmod(keys, 0o600)
        self.netns.create()

    def boot(self):
        self.console = open(os.path.join(self.dir, "console.log"), "w")
        cgroups = make_cgroups("ldd-" + self.name)

        def enter_cgroups():  # in the child, before exec
            for procs in cgroups:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))

        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "-D", self.root, "--boot", "--register=no",
             "--keep-unit", "--machine", self.name, "--link-journal=no",
             "--network-namespace-path", f"/run/netns/{self.netns.name}"],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=enter_cgroups)

    def init_pid(self):
        """PID (on this machine) of the container's systemd."""
        r = run(["pgrep", "-P", str(self.proc.pid)], check=False)
        pids = r.stdout.split()
        if not pids:
            raise RuntimeError(f"{self.name}: systemd-nspawn has no child; see "
                               f"{self.dir}/console.log")
        return int(pids[0])

    def sh(self, script, timeout=60, check=True):
        """Runs a shell script inside the container (all its namespaces)."""
        return run(["nsenter", "-t", str(self.init_pid()), "-m", "-u", "-i", "-n", "-p",
                    "--", "/bin/sh", "-c", script], timeout=timeout, check=check)

    def wait_booted(self, timeout):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: systemd-nspawn exited {self.proc.returncode};"
                                   f" see {self.dir}/console.log")
            try:
                r = self.sh("systemctl is-system-running", timeout=10, check=False)
                state = r.stdout.strip()
                if state in ("running", "degraded"):
                    if state == "degraded":
                        failed = self.sh("systemctl --failed --no-legend; journalctl -b "
                                         "-p warning --no-pager | tail -n 30",
                                         check=False).stdout
                        raise RuntimeError(f"{self.name} booted degraded:\n{failed}")
                    return
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                if "degraded" in str(e):
                    raise
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not finish booting in {timeout}s (state "
                           f"{state!r}); see {self.dir}/console.log")


# systemd's own hierarchies. With --keep-unit a container's systemd manages
# the cgroup that systemd-nspawn was started in: each container gets one of
# its own, or the containers would share (and trim) each other's units.
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


def _cgroup_roots():
    """The writable systemd hierarchies of this machine (hybrid: named
    'systemd' plus 'unified'; unified only: /sys/fs/cgroup itself)."""
    roots = [r for r in CGROUP_ROOTS[:2] if os.path.exists(os.path.join(r, "cgroup.procs"))]
    if not roots and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        roots = [CGROUP_ROOTS[2]]
    return roots


def make_cgroups(name):
    """Creates cgroup `name` in each systemd hierarchy; returns the
    cgroup.procs files to write a pid to."""
    procs = []
    for root in _cgroup_roots():
        os.makedirs(os.path.join(root, name), exist_ok=True)
        procs.append(os.path.join(root, name, "cgroup.procs"))
    return procs


def remove_cgroups():
    """Removes the (by then empty) cgroups of every container, deepest first."""
    for root in _cgroup_roots():
        for top in (d for d in os.listdir(root) if d.startswith("ldd-")):
            for dirpath, _, _ in sorted(os.walk(os.path.join(root, top)),
                                        key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass


def _ours(pid):
    """True when pid is a systemd-nspawn started on WORK_ROOT (an earlier run)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    return bool(args) and args[0].endswith(b"systemd-nspawn") and any(
        a.startswith(WORK_ROOT.encode()) for a in args)


def cleanup(hosts=(), extra_netns=()):
    """Stops the containers and removes every namespace, link, mount and
    file of this test, also those an earlier killed run left behind."""
    procs = [h.proc for h in hosts if h.proc and h.proc.poll() is None]
    stale = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ours(int(p))]
    known = {p.pid for p in procs}
    for p in procs:
        p.send_signal(signal.SIGTERM)  # nspawn: orderly shutdown of the container
    for pid in stale:
        if pid not in known:
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    for pid in stale:
        while pid not in known and _ours(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid not in known and _ours(pid):
            os.kill(pid, signal.SIGKILL)
    for h in hosts:
        if h.console:
            h.console.close()
    remove_cgroups()
    # Mounts under WORK_ROOT, deepest first.
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f]
    for m in sorted((m for m in mounts if m.startswith(WORK_ROOT + "/")), reverse=True):
        run(["umount", "-l", m], check=False)
    names = [n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
             if n.startswith("ldd-")]
    for n in set(names) | set(extra_netns):
        if netns_exists(n):
            run(["ip", "netns", "del", n], check=False)
    if os.path.exists(f"/sys/class/net/{BRIDGE}"):
        run(["ip", "link", "del", BRIDGE], check=False)
    # The tmpfs ensure_nspawn_run() mounted (its source names it).
    with open("/proc/self/mounts") as f:
        if any(line.split()[:2] == [NSPAWN_TAG, NSPAWN_RUN] for line in f):
            run(["umount", "-l", NSPAWN_RUN], check=False)
    shutil.rmtree(WORK_ROOT, ignore_errors=True)


def make_bridge():
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "link", "set", BRIDGE, "up"])


def ensure_nspawn_run():
    """systemd-nspawn keeps state in /run/systemd/nspawn; on a machine not
    booted with systemd that may be missing or read-only: mount a tmpfs of
    our own there (cleanup() removes it)."""
    os.makedirs(NSPAWN_RUN, exist_ok=True)
    if run(["mountpoint", "-q", NSPAWN_RUN], check=False).returncode != 0:
        run(["mount", "-t", "tmpfs", "-o", "mode=0755", NSPAWN_TAG, NSPAWN_RUN])
