"""A real fleet on loopback for end-to-end tests: `loadd target`, a
coordinator and workers as separate processes, plus helpers to call the REST
API and loadctl. Standard library only. Every process is killed on exit.

The e2e modules' shared helpers live here, not in copies: polling
(wait_until, timed_wait_until, wait_port, Fleet.wait_final, ENDED) and test
certificates made with the openssl CLI (openssl, make_ca, make_cert)."""

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


def wait_until(pred, timeout_s, step_s=0.05):
    """Calls pred() every step_s seconds until it returns a true value, for at
    most timeout_s; returns that value. At the deadline pred() is tried once
    more and its value returned, false if the wait failed: callers assert on
    it (assertTrue(wait_until(...), what)) or raise with their own message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step_s)
    return pred()


def timed_wait_until(pred, timeout_s, step_s=0.05):
    """wait_until that also says how long it waited: (value, seconds), or
    (None, None) when pred() stayed false for timeout_s."""
    start = time.monotonic()
    value = wait_until(pred, timeout_s, step_s)
    return (value, time.monotonic() - start) if value else (None, None)


def wait_port(port, timeout_s=10, host="127.0.0.1"):
    """Waits until something accepts TCP connections on host:port."""
    def accepts():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False
    if not wait_until(accepts, timeout_s):
        raise RuntimeError(f"nothing listens on {port}")


# The states a run ends in (GET /v1/runs/ID's "state").
ENDED = ("finished", "stopped", "failed", "interrupted")


def openssl(*args, cwd):
    """Runs the openssl CLI in cwd; raises on failure."""
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


# A fresh P-256 key without a passphrase, for `openssl req`.
EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def make_ca(d, name, cn=None):
    """A self-signed CA in d: NAME.key and NAME.pem, valid 2 days."""
    openssl("req", "-x509", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.pem",
            "-days", "2", "-subj", f"/CN={cn or 'loadd test ' + name}", cwd=d)


def make_cert(d, name, cn, ca="ca", ext=()):
    """NAME.key and NAME.pem in d, signed by the CA CA.key/CA.pem there; ext:
    more `openssl x509` arguments (e.g. ("-extfile", "san.ext"))."""
    openssl("req", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={cn}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *ext, cwd=d)


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

        def answers():
            if self.coordinator.poll() is not None:
                raise RuntimeError("the restarted coordinator exited; see its log")
            try:
                return http("GET", self.rest + "/healthz", timeout=1)[0] == 200
            except OSError:
                return False
        if not wait_until(answers, timeout):
            raise RuntimeError(f"the restarted coordinator did not answer within {timeout}s")
        return self.coordinator

    def add_worker(self, i, host_id=None, prefix=None, args=()):
        """args: more flags for this worker alone (e.g. --label pool=a)."""
        args = (["worker", "--coordinator", self.bus, "--instance", str(i)] + self.worker_args
                + list(args))
        host = host_id or (self.host_ids[i] if self.host_ids else None)
        if host:
            args += ["--host-id", host]
        p = self.spawn(f"worker{i}", args, prefix=prefix)
        self.workers.append(p)
        return p

    def wait_workers(self, n, timeout=10):
        def registered():
            try:
                status, body = http("GET", self.rest + "/healthz", timeout=1)
                return status == 200 and body["workers"] >= n
            except OSError:
                return False
        if not wait_until(registered, timeout):
            raise RuntimeError(f"fewer than {n} workers registered within {timeout}s")

    def served(self):
        return http("GET", self.target_url + "/__stats")[1]["requests"]

    def target_latency(self):
        """The target's own service times (us): request arrival to response
        written, {"count", "p50", "p90", "p99", "p99_9", "max"}."""
        return http("GET", self.target_url + "/__stats")[1]["latency_us"]

    def run(self, run_id):
        return http("GET", f"{self.rest}/v1/runs/{run_id}")[1]

    def wait_final(self, run_id, timeout_s, step_s=0.2):
        """The run's view once it ended (a state of ENDED); AssertionError
        with its state if it has not within timeout_s."""
        run = wait_until(lambda: (r := self.run(run_id))["state"] in ENDED and r,
                         timeout_s, step_s)
        if not run:
            raise AssertionError(f"run {run_id} still {self.run(run_id)['state']} "
                                 f"after {timeout_s}s")
        return run

    def stored_state(self, run_id):
        """The run's state in the coordinator's store (its `state` file: one
        record of length, CRC-32, 16 bytes of seconds covered, then the JSON;
        file_run_store.cc); None while the run has no state file."""
        try:
            with open(os.path.join(self.state_dir, "runs", run_id, "state"), "rb") as fh:
                return json.loads(fh.read()[8 + 16:])["state"]
        except FileNotFoundError:
            return None

    def wait_stored_final(self, run_id, timeout_s=5):
        """Waits until the run's ended state is on disk. The coordinator
        writes it as soon as the run ends, but that write (four fsyncs) takes
        ~5-90 ms on a busy VM: a kill -9 before it has landed loses the end
        (docs/operations.md). Tests that kill right after a run ended wait
        for it."""
        if not wait_until(lambda: self.stored_state(run_id) in ENDED, timeout_s, 0.01):
            raise AssertionError(f"run {run_id}: stored state still "
                                 f"{self.stored_state(run_id)} after {timeout_s}s")

    def loadctl(self, *args, timeout=120):
        env = dict(self.env, LOADD_COORDINATOR=self.rest)
        return subprocess.run([binary("loadctl")] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=self.tmp)
