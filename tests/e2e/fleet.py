"""A real fleet on loopback for end-to-end tests: `loadd target`, a
coordinator and workers as separate processes, plus helpers to call the REST
API and loadctl. Standard library only. Every process is killed on exit."""

import json
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BIN_DIR = os.environ.get("LOADD_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
# Set by scripts/test.sh for the ASan+UBSan build: the binaries are several
# times slower, so tests relax (only) their timing and latency bounds.
SANITIZED = os.environ.get("LOADD_SANITIZED") == "1"


def binary(name):
    for sub in ("bin", "."):
        path = os.path.abspath(os.path.join(BIN_DIR, sub, name))
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found under {BIN_DIR}; set LOADD_BIN_DIR")


# One REST token and one fleet key per test process. Every daemon and loadctl
# this module starts finds them through LOADD_TOKEN_FILE / LOADD_FLEET_KEY_FILE
# (each flag's environment name), and http() sends the token.
TOKEN = secrets.token_hex(24)
FLEET_KEY = secrets.token_hex(32)


def write_secret(directory, name, value):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=10, token=TOKEN, headers=None):
    """Returns (status, parsed JSON or raw text). token=None sends no
    Authorization header."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def realtime_allowed():
    """Whether this process may start a SCHED_FIFO process (chrt present and
    permitted: root, or CAP_SYS_NICE)."""
    try:
        return subprocess.run(["chrt", "--fifo", "10", "true"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


class Fleet:
    """with Fleet(workers=2) as f: ... f.target_url, f.rest, f.loadctl(...)"""

    def __init__(self, workers=2, target_threads=0, worker_args=None, host_ids=None,
                 coordinator_args=None, host="127.0.0.1", target_realtime=False):
        """host: the address the target and the fleet bus listen on (REST stays
        on loopback); another one than loopback for workers in a network
        namespace. target_realtime: run the target under SCHED_FIFO where
        allowed (root), so that a latency test measures the generator rather
        than how soon the scheduler runs the test's own server."""
        self.n_workers = workers
        self.target_threads = target_threads
        self.target_realtime = target_realtime and realtime_allowed()
        self.worker_args = worker_args or []
        self.coordinator_args = coordinator_args or []
        self.host_ids = host_ids
        self.host = host
        self.procs = []
        self.workers = []
        self.tmp = tempfile.mkdtemp(prefix="loadd-e2e-")
        self.state_dir = os.path.join(self.tmp, "state")  # the coordinator's run store
        self.coordinator_starts = 0
        self.secrets = tempfile.mkdtemp(prefix="loadd-e2e-secrets-")
        self.env = dict(os.environ,
                        LOADD_TOKEN_FILE=write_secret(self.secrets, "token", TOKEN),
                        LOADD_FLEET_KEY_FILE=write_secret(self.secrets, "fleet.key", FLEET_KEY))

    def __enter__(self):
        try:
            self.start_target()
            self.bus_port, self.rest_port = free_port(), free_port()
            self.bus = f"tcp://{self.host}:{self.bus_port}"
            self.rest = f"http://127.0.0.1:{self.rest_port}"
            self.start_coordinator()
            for i in range(self.n_workers):
                self.add_worker(i)
            self.wait_workers(self.n_workers)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
            if p.stdout:
                p.stdout.close()
        if exc[0] is not None or os.environ.get("LOADD_E2E_LOGS"):
            self.dump_logs()

    def dump_logs(self):
        for f in self.logs():
            with open(f, errors="replace") as log:
                print(f"--- {f}\n" + log.read()[-3000:])

    def log(self, name):
        """The text a daemon wrote so far ("worker2", "coordinator")."""
        with open(os.path.join(self.tmp, name + ".log"), errors="replace") as f:
            return f.read()

    def logs(self):
        paths = (os.path.join(self.tmp, f) for f in os.listdir(self.tmp))
        return sorted(p for p in paths if os.path.isfile(p))

    def spawn(self, name, args, stdout=None, prefix=None):
        """prefix: a command to run loadd under (e.g. ip netns exec NS); it
        must exec loadd, so the process is loadd itself."""
        with open(os.path.join(self.tmp, name + ".log"), "w") as err:
            p = subprocess.Popen((prefix or []) + [binary("loadd")] + args,
                                 stdout=stdout or err, stderr=err,
                                 start_new_session=True, env=self.env)
        self.procs.append(p)
        return p

    def start_target(self):
        args = ["target", "--listen", f"{self.host}:0"]
        if self.target_threads:
            args += ["--threads", str(self.target_threads)]
        prefix = ["chrt", "--fifo", "10"] if self.target_realtime else None
        self.target = self.spawn("target", args, stdout=subprocess.PIPE, prefix=prefix)
        line = self.target.stdout.readline().decode()
        if not line.startswith("listening on "):
            raise RuntimeError(f"target did not start: {line!r}")
        self.target_url = "http://" + line.split()[-1]

    def start_coordinator(self):
        """Starts the coordinator on this fleet's ports and state dir; each
        start logs to its own file (coordinator.log, coordinator-2.log, ...)."""
        self.coordinator_starts += 1
        n = self.coordinator_starts
        self.coordinator = self.spawn("coordinator" + (f"-{n}" if n > 1 else ""),
                                      ["coordinator", "--bus", self.bus,
                                       "--rest", f"127.0.0.1:{self.rest_port}",
                                       "--state-dir", self.state_dir] + self.coordinator_args)
        return self.coordinator

    def kill_coordinator(self):
        """kill -9 the coordinator; returns the wall-clock time of the kill."""
        self.coordinator.send_signal(signal.SIGKILL)
        killed_at = time.time()
        self.coordinator.wait()
        return killed_at

    def restart_coordinator(self, timeout=10):
        """kill -9 the coordinator if it still runs, start it again with the
        same ports and state dir, and wait until its REST API answers."""
        if self.coordinator.poll() is None:
            self.kill_coordinator()
        self.start_coordinator()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.coordinator.poll() is not None:
                raise RuntimeError("the restarted coordinator exited; see its log")
            try:
                if http("GET", self.rest + "/healthz", timeout=1)[0] == 200:
                    return self.coordinator
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the restarted coordinator did not answer within {timeout}s")

    def add_worker(self, i, host_id=None, prefix=None):
        args = ["worker", "--coordinator", self.bus, "--instance", str(i)] + self.worker_args
        host = host_id or (self.host_ids[i] if self.host_ids else None)
        if host:
            args += ["--host-id", host]
        p = self.spawn(f"worker{i}", args, prefix=prefix)
        self.workers.append(p)
        return p

    def wait_workers(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                status, body = http("GET", self.rest + "/healthz", timeout=1)
                if status == 200 and body["workers"] >= n:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"fewer than {n} workers registered within {timeout}s")

    def served(self):
        return http("GET", self.target_url + "/__stats")[1]["requests"]

    def target_latency(self):
        """The target's own service times (us): request arrival to response
        written, {"count", "p50", "p90", "p99", "p99_9", "max"}."""
        return http("GET", self.target_url + "/__stats")[1]["latency_us"]

    def run(self, run_id):
        return http("GET", f"{self.rest}/v1/runs/{run_id}")[1]

    def loadctl(self, *args, timeout=120):
        env = dict(self.env, LOADD_COORDINATOR=self.rest)
        return subprocess.run([binary("loadctl")] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=self.tmp)
