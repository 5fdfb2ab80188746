"""The deployment as operators do it, on real systemd hosts.

Boots three Debian bookworm containers (systemd-nspawn, testbed.py): one
coordinator host and two worker hosts, each in its own network namespace
on a test bridge. Builds the .deb with cpack, rolls the fleet out with
ansible/site.yml over SSH, and checks: every loadd@N is active, the
coordinator lists every instance, a 100-user run against a target on the
test network reports exactly the requests the target served, a second
rollout and a --check run change nothing, a worker killed with kill -9 is
restarted by systemd and registers again, so is a hung one (SIGSTOP: the
watchdog pings from its event loop stop), a host scaled down to one worker
stops and disables the others, and ansible/teardown.yml leaves
no unit, user, file or process behind. Then the .deb alone: dpkg -i, -r
and --purge on a clean host. Prints how long each step took.

Run: (as root) LOADD_BIN_DIR=build python3 -m unittest -v test_deploy
from tests/deploy. The root file system is cached (rootfs.sh: under
$LOADD_DEPLOY_CACHE, default /var/cache/loadd-deploy); the first run
builds it with debootstrap (a few minutes). Skipped in the sanitizer build.
LOADD_DEPLOY_DEB=FILE uses that .deb instead of running cpack.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import testbed
from testbed import SUBNET, Host, Netns, run

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN_DIR = os.path.abspath(os.environ.get("LOADD_BIN_DIR", os.path.join(REPO, "build")))
# The whole test stops (and cleans up) after this long, before ctest's
# TIMEOUT (tests/CMakeLists.txt) would kill it without cleaning up.
DEADLINE_S = int(os.environ.get("LOADD_DEPLOY_DEADLINE_S", "1500"))

CONTROLLER = f"{SUBNET}.1"
TARGET = f"{SUBNET}.2"
HOSTS = {"coord": f"{SUBNET}.10", "w1": f"{SUBNET}.11", "w2": f"{SUBNET}.12"}
WORKER_HOSTS = ("w1", "w2")
W2_INSTANCES = 2  # an override of the default (cores - 1, at least 1)
USERS = 100

RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                   re.M)


class Timeout(Exception):
    pass


def expected_cpus(cores, instances=None):
    """The CPUs the worker role picks: the highest-numbered ones."""
    n = instances if instances is not None else max(cores - 1, 1)
    return list(range(cores - n, cores))


class Deploy(unittest.TestCase):
    def setUp(self):
        if os.environ.get("LOADD_SANITIZED") == "1":
            self.skipTest("a .deb of sanitizer binaries is no deployment; the plain build runs this")
        if os.geteuid() != 0:
            self.skipTest("tests/deploy needs root (network namespaces, mounts, systemd-nspawn); "
                          "CI runs it as root")
        for tool in ("systemd-nspawn", "debootstrap", "ansible-playbook", "ip", "cpack",
                     "ssh", "nsenter"):
            if shutil.which(tool) is None:
                self.fail(f"{tool} is missing: run scripts/install-deps.sh")
        self.timings = []
        self.t0 = time.monotonic()
        self.hosts = []
        signal.signal(signal.SIGALRM, self._deadline)
        signal.signal(signal.SIGTERM, self._deadline)
        signal.alarm(DEADLINE_S)
        self.addCleanup(self._cleanup)
        testbed.cleanup()  # whatever an earlier, killed run left
        os.makedirs(testbed.WORK_ROOT, mode=0o700)

    def _deadline(self, signum, _frame):
        raise Timeout(f"tests/deploy: stopped by signal {signum} (deadline {DEADLINE_S}s)")

    def _cleanup(self):
        signal.alarm(0)
        t = time.monotonic()
        testbed.cleanup(self.hosts)
        self.timings.append(("cleanup", time.monotonic() - t))
        total = time.monotonic() - self.t0
        print("\ndeploy: " + ", ".join(f"{name} {s:.0f}s" for name, s in self.timings) +
              f"; total {total:.0f}s", flush=True)

    def step(self, name, fn, *args):
        t = time.monotonic()
        print(f"deploy: {name} ...", flush=True)
        result = fn(*args)
        self.timings.append((name, time.monotonic() - t))
        return result

    # The test, step by step.
    def test_rollout_run_restart_teardown(self):
        rootfs = self.step("rootfs", self.make_rootfs)
        deb = self.step("package", self.make_deb)
        self.step("boot", self.boot, rootfs)
        cores = int(self.hosts[1].sh("nproc").stdout)
        want = {"w1": expected_cpus(cores), "w2": expected_cpus(cores, min(W2_INSTANCES, cores))}

        self.step("--check on new hosts", self.check_fresh, deb)
        first = self.step("rollout", self.ansible, "site.yml", deb, ["-v"])
        self.assertNoSecrets(first)
        again = self.step("rollout again", self.ansible, "site.yml", deb)
        self.assertEqual(self.changed(again), {h: 0 for h in HOSTS},
                         "a second site.yml run changed something:\n" + again)
        dry = self.step("rollout --check", self.ansible, "site.yml", deb, ["--check"])
        self.assertEqual(self.changed(dry), {h: 0 for h in HOSTS}, dry)

        self.step("units", self.check_units, want)
        self.step("run", self.check_run, want)
        self.step("kill -9", self.check_restart, "w2", want["w2"][0], "KILL")
        self.step("watchdog", self.check_restart, "w1", want["w1"][0], "STOP")
        self.step("scale down", self.scale_down, deb, want)
        self.step("teardown", self.teardown, deb)
        self.step("dpkg", self.check_dpkg, deb)

    def make_rootfs(self):
        return run(["bash", os.path.join(HERE, "rootfs.sh")], timeout=1200).stdout.strip()

    def make_deb(self):
        given = os.environ.get("LOADD_DEPLOY_DEB")  # a .deb built before, to iterate faster
        if given:
            return os.path.abspath(given)
        out = os.path.join(testbed.WORK_ROOT, "pkg")
        os.makedirs(out, exist_ok=True)
        config = os.path.join(BIN_DIR, "CPackConfig.cmake")
        self.assertTrue(os.path.exists(config), f"{config} missing: configure the build first")
        run(["cpack", "--config", config, "-B", out], timeout=900)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, debs)
        return os.path.join(out, debs[0])

    def boot(self, rootfs):
        testbed.ensure_nspawn_run()
        testbed.make_bridge()
        key = os.path.join(testbed.WORK_ROOT, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
        with open(key + ".pub") as f:
            pubkey = f.read()
        self.key = key
        self.controller = Netns("ldd-ctl", CONTROLLER)
        self.controller.create()
        self.target_ns = Netns("ldd-tgt", TARGET)
        self.target_ns.create()
        self.hosts = [Host(name, addr, rootfs, pubkey) for name, addr in HOSTS.items()]
        for h in self.hosts:
            h.prepare()
            h.boot()
        for h in self.hosts:
            h.wait_booted(120)
        # The load target, on the test network only.
        log = open(os.path.join(testbed.WORK_ROOT, "target.log"), "w")
        self.addCleanup(log.close)
        self.target = self.target_ns.popen(
            [os.path.join(BIN_DIR, "bin", "loadd"), "target", "--listen", f"{TARGET}:8080"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.stop_target)

    def stop_target(self):
        if self.target.poll() is None:
            self.target.kill()
        self.target.wait()

    def host(self, name):
        return next(h for h in self.hosts if h.name == name)

    def inventory(self, deb):
        """The test's inventory: JSON, which is YAML too."""
        path = os.path.join(testbed.WORK_ROOT, "inventory.yml")
        hosts = lambda names: {n: {"ansible_host": HOSTS[n]} for n in names}
        workers = hosts(WORKER_HOSTS)
        workers["w2"]["loadd_worker_instances"] = W2_INSTANCES
        inv = {"all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                                           "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
                "loadd_deb": deb,
                "loadd_secrets_dir": os.path.join(testbed.WORK_ROOT, "secrets"),
                "loadd_allow_hosts": [TARGET],
            },
            "children": {"loadd_coordinator": {"hosts": hosts(["coord"])},
                         "loadd_workers": {"hosts": workers}}}}
        with open(path, "w") as f:
            json.dump(inv, f, indent=1)
        return path

    def ansible(self, playbook, deb, extra=()):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible", "ansible.cfg"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_HOST_KEY_CHECKING="False",
                   ANSIBLE_LOCAL_TEMP=os.path.join(testbed.WORK_ROOT, "ansible-tmp"))
        cmd = ["ansible-playbook", "-i", self.inventory(deb), playbook] + list(extra)
        r = self.controller.exec(cmd, timeout=900, check=False, env=env,
                                 cwd=os.path.join(REPO, "ansible"))
        out = r.stdout + r.stderr
        if r.returncode != 0:
            self.fail(f"ansible-playbook {playbook} {' '.join(extra)} exited {r.returncode}:\n"
                      + out[-8000:])
        return out

    def check_fresh(self, deb):
        """A dry run on hosts without loadd succeeds and changes nothing."""
        self.ansible("site.yml", deb, ["--check"])
        for h in self.hosts:
            r = h.sh("dpkg-query -W -f='${Status}' loadd 2>&1; ls /etc/loadd 2>&1",
                     check=False).stdout
            self.assertNotIn("install ok installed", r, h.name)
            self.assertIn("No such file", r, h.name)

    def changed(self, out):
        recap = {m.group(1): int(m.group(3)) for m in RECAP.finditer(out)}
        self.assertEqual(set(recap), set(HOSTS), "no PLAY RECAP for every host:\n" + out)
        return recap

    def assertNoSecrets(self, out):
        secrets = os.path.join(testbed.WORK_ROOT, "secrets")
        for name in ("fleet.key", "token"):
            with open(os.path.join(secrets, name)) as f:
                value = f.read().strip()
            self.assertGreaterEqual(len(value), 32)
            self.assertNotIn(value, out, f"the {name} appears in the ansible output")
            self.assertEqual(os.stat(os.path.join(secrets, name)).st_mode & 0o777, 0o600)

    def api(self, path):
        """GET path on the coordinator's REST API, from the coordinator host."""
        script = ("import json,urllib.request\n"
                  "t=open('/etc/loadd/token').read().strip()\n"
                  f"r=urllib.request.Request('http://127.0.0.1:8089{path}',"
                  "headers={'Authorization':'Bearer '+t})\n"
                  "print(urllib.request.urlopen(r,timeout=5).read().decode())\n")
        return json.loads(self.host("coord").sh(f"python3 -c \"{script}\"").stdout)

    def workers(self):
        return {w["id"]: w for w in self.api("/v1/workers")["workers"]}

    def check_units(self, want):
        coord = self.host("coord")
        self.assertEqual(coord.sh("systemctl is-active loadd-coordinator").stdout.strip(),
                         "active")
        for name in ("coord",) + WORKER_HOSTS:
            h = self.host(name)
            mode = h.sh("stat -c '%U %G %a' /etc/loadd/fleet.key").stdout.split()
            self.assertEqual(mode, ["loadd", "loadd", "600"], name)
        expected_ids = set()
        for name in WORKER_HOSTS:
            h = self.host(name)
            for cpu in want[name]:
                unit = f"loadd@{cpu}.service"
                self.assertEqual(h.sh(f"systemctl is-active {unit}", check=False).stdout.strip(),
                                 "active", h.sh(f"journalctl -u {unit} --no-pager | tail -20",
                                                check=False).stdout)
                self.assertEqual(h.sh(f"systemctl is-enabled {unit}").stdout.strip(), "enabled")
                status = h.sh(f"systemctl show -p StatusText --value {unit}").stdout.strip()
                self.assertTrue(status.startswith(f"registered with tcp://{HOSTS['coord']}:5557"),
                                status)
                affinity = h.sh(f"taskset -pc $(systemctl show -p MainPID --value {unit})")
                self.assertTrue(affinity.stdout.strip().endswith(f": {cpu}"), affinity.stdout)
                expected_ids.add(f"{name}/{cpu}")
            extra = h.sh("systemctl list-units --plain --no-legend 'loadd@*'").stdout
            self.assertEqual(len(extra.splitlines()), len(want[name]), extra)
        listed = self.workers()
        live = {i for i, w in listed.items() if w["state"] != "lost"}
        self.assertEqual(live, expected_ids, listed)
        for name, unit in (("w1", f"loadd@{want['w1'][0]}.service"),
                           ("coord", "loadd-coordinator.service")):
            report = self.host(name).sh(f"systemd-analyze security --no-pager {unit}").stdout
            level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", report)
            print(f"deploy: systemd-analyze security {unit} on a booted host: "
                  f"{level.group(1) if level else report[-500:]}", flush=True)
            self.assertIsNotNone(level)
            self.assertLessEqual(float(level.group(1)), 2.0)

    def check_run(self, want):
        coord = self.host("coord")
        r = coord.sh(f"loadctl start --users {USERS} --duration 5s --expect-workers "
                     f"{sum(len(c) for c in want.values())} --target "
                     f"http://{TARGET}:8080/delay/20ms --out /root/run.json", timeout=120,
                     check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        result = json.loads(coord.sh("cat /root/run.json").stdout)
        served = json.loads(coord.sh(
            "python3 -c \"import urllib.request;print(urllib.request.urlopen("
            f"'http://{TARGET}:8080/__stats',timeout=5).read().decode())\"").stdout)["requests"]
        totals = result["totals"]
        print(f"deploy: run {result['id']}: {totals['requests']} requests, {served} served by "
              f"the target, {totals['failures']} failures, workers "
              f"{sorted(w['id'] for w in result['workers'])}", flush=True)
        self.assertEqual(result["state"], "finished", result.get("message"))
        self.assertEqual(result["target_users"], USERS)
        self.assertGreater(totals["requests"], 0)
        self.assertEqual(totals["requests"], served)
        self.assertEqual(totals["failures"], 0)
        self.assertEqual(len(result["workers"]), sum(len(c) for c in want.values()))

    def check_restart(self, name, cpu, signal_name):
        """kill -KILL: systemd restarts the worker (Restart=on-failure).
        kill -STOP: the loop stops pinging the watchdog; after WatchdogSec
        systemd aborts, then kills it, and restarts it. Either way it must
        register again."""
        h = self.host(name)
        unit = f"loadd@{cpu}.service"
        show = lambda: dict(line.split("=", 1) for line in h.sh(
            f"systemctl show -p MainPID -p NRestarts -p ActiveState {unit}").stdout.split())
        before = show()
        old_pid = before["MainPID"]
        h.sh(f"kill -{signal_name} {old_pid}")
        killed = time.monotonic()
        deadline = killed + 90
        while time.monotonic() < deadline:
            now = show()
            if (now["ActiveState"] == "active" and now["MainPID"] not in ("0", old_pid)
                    and int(now["NRestarts"]) > int(before["NRestarts"])):
                break
            time.sleep(0.2)
        else:
            self.fail(f"{unit} on {name} was not restarted after kill -9: {show()}")
        restarted = time.monotonic()
        worker_id = f"{name}/{cpu}"
        while time.monotonic() < deadline:
            w = self.workers().get(worker_id)
            if w and w["state"] != "lost" and str(w["pid"]) == now["MainPID"]:
                break
            time.sleep(0.2)
        else:
            self.fail(f"{worker_id} did not register again: {self.workers().get(worker_id)}")
        print(f"deploy: kill -{signal_name} {unit}: restarted after {restarted - killed:.1f}s, "
              f"registered again after {time.monotonic() - killed:.1f}s", flush=True)
        if signal_name == "STOP":
            log = h.sh(f"journalctl -u {unit} --no-pager", check=False).stdout
            self.assertIn("Watchdog timeout", log)

    def scale_down(self, deb, want):
        """One worker on w2: site.yml stops and disables the other (it says
        goodbye, so the coordinator drops it at once)."""
        self.ansible("site.yml", deb, ["--limit", "w2", "-e", "loadd_worker_instances=1"])
        h = self.host("w2")
        keep, gone = want["w2"][-1], want["w2"][:-1]
        self.assertEqual(h.sh(f"systemctl is-active loadd@{keep}").stdout.strip(), "active")
        for cpu in gone:
            state = h.sh(f"systemctl is-active loadd@{cpu}; systemctl is-enabled loadd@{cpu}",
                         check=False).stdout.split()
            self.assertEqual(state, ["inactive", "disabled"], f"loadd@{cpu} on w2")
        live = {i for i, w in self.workers().items() if w["state"] != "lost"}
        self.assertEqual(live, {f"w1/{c}" for c in want["w1"]} | {f"w2/{keep}"})

    def teardown(self, deb):
        self.ansible("teardown.yml", deb)
        for h in self.hosts:
            leftovers = h.sh(
                "systemctl list-unit-files --no-legend 'loadd*';"
                "systemctl list-units --all --no-legend 'loadd*';"
                "getent passwd loadd; getent group loadd;"
                "ls -d /etc/loadd /var/lib/loadd /var/lib/private/loadd /var/cache/loadd-ansible"
                " /usr/bin/loadd /usr/bin/loadctl /lib/systemd/system/loadd*"
                " /usr/lib/sysusers.d/loadd.conf /usr/lib/tmpfiles.d/loadd.conf"
                " /etc/systemd/system/*/loadd* /usr/share/doc/loadd 2>/dev/null;"
                "dpkg-query -W -f='${Status}\\n' loadd 2>/dev/null | grep -v not-installed;"
                "pgrep -a -x loadd", check=False).stdout
            self.assertEqual(leftovers.strip(), "", f"teardown.yml left on {h.name}:\n{leftovers}")

    def check_dpkg(self, deb):
        """The .deb alone on a clean host: installs, verifies, removes, purges."""
        h = self.host("w1")
        shutil.copy(deb, os.path.join(h.root, "root", "loadd.deb"))  # /tmp is a tmpfs in there
        r = h.sh("dpkg -i /root/loadd.deb", timeout=120, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("loadd 0.1", h.sh("loadd --version").stdout)
        verify = h.sh("systemd-analyze verify loadd@0.service loadd-coordinator.service "
                      "loadd.target 2>&1", check=False)
        self.assertEqual(verify.stdout.strip(), "", verify.stdout)
        self.assertEqual(h.sh("stat -c '%U %a' /etc/loadd/fleet.key /etc/loadd/token").stdout
                         .split(), ["loadd", "600", "loadd", "600"])
        r = h.sh("dpkg -r loadd", timeout=120, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        left = h.sh("ls /usr/bin/loadd /lib/systemd/system/loadd* 2>/dev/null", check=False)
        self.assertEqual(left.stdout.strip(), "")
        r = h.sh("dpkg --purge loadd && rm /root/loadd.deb", timeout=120, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        left = h.sh("ls -d /etc/loadd /var/lib/loadd 2>/dev/null; dpkg -L loadd 2>/dev/null",
                    check=False)
        self.assertEqual(left.stdout.strip(), "")


if __name__ == "__main__":
    unittest.main()
