"""End-to-end: the fleet bus admits only holders of the fleet key, says why
when it refuses, picks up a rotated key on SIGHUP, and runs over tls+tcp://.
Certificates are made at test time with the openssl CLI."""

import json
import os
import re
import secrets
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from fleet import TOKEN, Fleet, binary, http, make_ca, make_cert, wait_until, write_secret


def read(path):
    with open(path) as f:
        return f.read()


def worker_ids(f):
    return sorted(w["id"] for w in http("GET", f.rest + "/v1/workers")[1]["workers"])


def make_certs(d):
    """A CA; the coordinator's certificate for 127.0.0.1 and a worker's client
    certificate, both signed by it; an unrelated CA and a client certificate
    signed by that one."""
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:127.0.0.1,IP:127.0.0.1,DNS:localhost\n")
    make_cert(d, "bus", "127.0.0.1", ext=("-extfile", "san.ext"))
    make_cert(d, "worker", "loadd worker")
    make_cert(d, "stranger", "loadd worker", ca="other-ca")


class TlsFleet(Fleet):
    """A fleet whose bus is tls+tcp://."""

    def start_coordinator(self):
        if self.bus.startswith("tcp://"):
            self.bus = "tls+" + self.bus
        return super().start_coordinator()


class FleetKey(unittest.TestCase):
    def test_wrong_key_never_registers_says_why_and_sighup_fixes_it(self):
        with Fleet(workers=1) as f:
            wrong = write_secret(f.secrets, "wrong.key", secrets.token_hex(32))
            env = f.env
            f.env = dict(env, LOADD_FLEET_KEY_FILE=wrong)
            try:
                intruder = f.add_worker(1, host_id="intruder")
            finally:
                f.env = env
            self.assertTrue(wait_until(lambda: "fleet key" in f.log("worker1"), 10),
                            f.log("worker1"))
            # It keeps trying: give it a few attempts, then check it is still out.
            time.sleep(2)
            self.assertEqual(http("GET", f.rest + "/healthz")[1]["workers"], 1)
            self.assertNotIn("intruder/1", worker_ids(f))
            log = f.log("worker1")
            self.assertIn("closed the connection while checking this worker's fleet key", log)
            self.assertIn(wrong, log)  # names the file to fix, never the key
            self.assertNotIn(read(wrong).strip(), log)
            self.assertIn("authentication failed", f.log("coordinator"))
            self.assertIsNone(intruder.poll(), "a wrong key is not fatal: the worker retries")

            # Rotate the right key into its file and SIGHUP: it joins.
            with open(wrong, "w") as key_file:
                key_file.write(read(env["LOADD_FLEET_KEY_FILE"]))
            intruder.send_signal(signal.SIGHUP)
            f.wait_workers(2, timeout=15)
            self.assertIn("intruder/1", worker_ids(f))
            self.assertIn("fleet key reloaded", f.log("worker1"))

    def test_missing_or_unsafe_key_refuses_to_start(self):
        d = tempfile.mkdtemp(prefix="loadd-e2e-key-")
        loose = os.path.join(d, "loose.key")
        with open(loose, "w") as f:
            f.write(secrets.token_hex(32))
        os.chmod(loose, 0o644)
        short = write_secret(d, "short.key", "tooshort")
        # A usable REST token, so the coordinator gets as far as the fleet key.
        env = dict(os.environ, LOADD_FLEET_KEY_FILE="",
                   LOADD_TOKEN_FILE=write_secret(d, "token", TOKEN))
        cases = [
            (os.path.join(d, "absent.key"), "loadd keygen >"),
            (loose, f"chmod 600 {loose}"),
            (short, "at least 32"),
        ]
        for role, extra in (("worker", []), ("coordinator", ["--state-dir", d + "/state"])):
            for path, hint in cases:
                r = subprocess.run([binary("loadd"), role, "--fleet-key-file", path] + extra,
                                   capture_output=True, text=True, timeout=20, env=env)
                self.assertEqual(r.returncode, 2, f"{role} {path}: {r.stderr}")
                self.assertIn("--fleet-key-file", r.stderr, r.stderr)
                self.assertIn(hint, r.stderr, r.stderr)

    def test_keygen_makes_a_usable_key(self):
        r = subprocess.run([binary("loadd"), "keygen"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^[0-9a-f]{64}\n$")
        again = subprocess.run([binary("loadd"), "keygen"], capture_output=True, text=True,
                               timeout=10)
        self.assertNotEqual(r.stdout, again.stdout)

    def test_worker_config_file_sets_flags(self):
        """--config: every flag is a key; a flag on the command line wins,
        and so does the environment (LOADD_FLEET_KEY_FILE)."""
        with Fleet(workers=0) as f:
            conf = os.path.join(f.tmp, "worker.conf")
            with open(conf, "w") as c:
                c.write(f'coordinator = "{f.bus}"\nhost-id = "from-config"\n'
                        'instance = 7\nfleet-key-file = "/nonexistent/overridden.key"\n')
            f.spawn("worker-conf", ["worker", "--config", conf])
            f.wait_workers(1)
            self.assertEqual(worker_ids(f), ["from-config/7"])
            bad = os.path.join(f.tmp, "bad.conf")
            with open(bad, "w") as c:
                c.write("no-such-flag = 1\n")
            for args in (["--config", bad], ["--config", os.path.join(f.tmp, "absent.conf")]):
                r = subprocess.run([binary("loadd"), "worker"] + args, capture_output=True,
                                   text=True, timeout=10, env=f.env)
                self.assertNotEqual(r.returncode, 0, r.stderr)
                self.assertTrue(re.search(r"no-such-flag|absent\.conf", r.stderr), r.stderr)


PAIR1_HEADER = b"\0SP\0\0\x11\0\0"  # nng's SP header for pair1 (protocol 17)


class HandshakeFlood:
    """`connections` TCP connections to the bus that send only the 8-byte
    pair1 header, read and ignore whatever comes, and reconnect as soon as
    they are closed: a peer without the fleet key holding handshake slots.
    Bounded: it stops by itself after `seconds` or `max_connects` connects,
    whichever comes first (or at stop()). Loopback only."""

    def __init__(self, port, connections=300, seconds=60, max_connects=200_000):
        self.addr = ("127.0.0.1", port)
        self.connections, self.seconds, self.max_connects = connections, seconds, max_connects
        self.connects = 0  # connections opened (each sent the header)
        self.closed_by_peer = 0
        self.open = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the flood did not stop"

    def _connect(self, sel):
        if self.connects >= self.max_connects:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(self.addr)
        self.connects += 1
        sel.register(s, selectors.EVENT_WRITE, "connecting")

    def _run(self):
        sel = selectors.DefaultSelector()
        deadline = time.time() + self.seconds
        for _ in range(self.connections):
            self._connect(sel)
        while not self._stop.is_set() and time.time() < deadline and sel.get_map():
            for key, _ in sel.select(timeout=0.05):
                s = key.fileobj
                if key.data == "connecting":
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        try:
                            s.send(PAIR1_HEADER)
                            sel.modify(s, selectors.EVENT_READ, "open")
                            self.open += 1
                            continue
                        except OSError:
                            pass
                    sel.unregister(s)
                    s.close()
                    self._connect(sel)  # refused or reset: again at once
                    continue
                try:
                    data = s.recv(4096)  # the SP header and the challenge: ignored
                except OSError:
                    data = b""
                if not data:
                    self.closed_by_peer += 1
                    self.open -= 1
                    sel.unregister(s)
                    s.close()
                    self._connect(sel)
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()


def restart_worker(f, i, n_workers):
    """kill -9 worker i, wait until the coordinator has dropped it, start it
    again under the same id; returns the seconds from its start until the
    coordinator lists `n_workers` workers (at most 30)."""
    f.workers[i].kill()
    f.workers[i].wait()
    if not wait_until(lambda: healthz_workers(f) == n_workers - 1, 15):
        raise AssertionError(f"the coordinator still lists worker {i} after its kill")
    started = time.time()
    f.workers[i] = f.add_worker(i)
    f.workers.pop()  # add_worker appended it; it replaces slot i
    registered = wait_until(lambda: healthz_workers(f) >= n_workers, 30)
    return time.time() - started if registered else float("inf")


def healthz_workers(f):
    try:
        status, body = http("GET", f.rest + "/healthz", timeout=1)
        return body["workers"] if status == 200 else -1
    except OSError:
        return -1


class HandshakeAdmission(unittest.TestCase):
    def test_key_less_handshake_flood_does_not_keep_workers_out(self):
        """Issue 14 item 2: 300 connections that send only the pair1 header
        and reconnect at once held every authenticating slot; a restarted
        worker took 31 s to register. Under the same flood a restarted
        worker and the registered workers' reconnects (after a coordinator
        restart) must register within 5 s."""
        with Fleet(workers=2) as f:
            quiet = restart_worker(f, 1, 2)
            port = int(f.bus.rsplit(":", 1)[1])
            with HandshakeFlood(port) as flood:
                self.assertTrue(wait_until(lambda: flood.open >= 290, 10),
                                f"flood: {flood.open} open of 300")
                time.sleep(1)  # every slot it can take is taken
                flooded = restart_worker(f, 1, 2)
                f.restart_coordinator()
                started = time.time()
                back = wait_until(lambda: healthz_workers(f) >= 2, 30)
                reconnect = time.time() - started if back else float("inf")
                opened, closed = flood.connects, flood.closed_by_peer
            print(f"\nrestarted worker registered in {quiet:.2f} s without the flood, "
                  f"{flooded:.2f} s under it; after a coordinator restart under the flood "
                  f"both workers were back in {reconnect:.2f} s "
                  f"(flood: {opened} connects, {closed} closed by the coordinator)")
            self.assertLess(flooded, 5.0, f.log("coordinator")[-2000:])
            self.assertLess(reconnect, 5.0, f.log("coordinator-2")[-2000:])
            self.assertGreater(opened, 300, "the flood never reconnected")
            self.assertEqual(len(worker_ids(f)), 2, worker_ids(f))


class BusTls(unittest.TestCase):
    def test_tls_fleet_runs_with_exact_totals(self):
        d = tempfile.mkdtemp(prefix="loadd-e2e-tls-")
        make_certs(d)
        pem = lambda name: os.path.join(d, name)
        with TlsFleet(workers=2,
                      coordinator_args=["--bus-tls-cert", pem("bus.pem"),
                                        "--bus-tls-key", pem("bus.key")],
                      worker_args=["--bus-tls-ca", pem("ca.pem")]) as f:
            self.assertTrue(f.bus.startswith("tls+tcp://"))
            # A worker that trusts another CA never gets in.
            f.worker_args = ["--bus-tls-ca", pem("other-ca.pem")]
            f.add_worker(2, host_id="untrusting")
            out = os.path.join(f.tmp, "report.json")
            r = f.loadctl("start", "--users", "20", "--spawn-rate", "100", "--duration", "3s",
                          "--target", f.target_url + "/delay/2ms", "--out", out)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out) as report:
                run = json.load(report)
            self.assertEqual(run["state"], "finished")
            self.assertEqual(len(run["workers"]), 2)
            self.assertGreater(run["totals"]["requests"], 500)
            self.assertEqual(run["totals"]["requests"], f.served())
            self.assertEqual(run["totals"]["failures"], 0)
            for i in (0, 1):
                self.assertIn("fleet key verified both ways", f.log(f"worker{i}"))
            self.assertNotIn("untrusting/2", worker_ids(f))
            self.assertTrue(wait_until(lambda: "--bus-tls-ca" in f.log("worker2"), 15),
                            f.log("worker2"))

    def test_coordinator_with_a_ca_requires_worker_certificates(self):
        d = tempfile.mkdtemp(prefix="loadd-e2e-mtls-")
        make_certs(d)
        pem = lambda name: os.path.join(d, name)
        with TlsFleet(workers=1,
                      coordinator_args=["--bus-tls-cert", pem("bus.pem"),
                                        "--bus-tls-key", pem("bus.key"),
                                        "--bus-tls-ca", pem("ca.pem")],
                      worker_args=["--bus-tls-ca", pem("ca.pem"),
                                   "--bus-tls-cert", pem("worker.pem"),
                                   "--bus-tls-key", pem("worker.key")]) as f:
            # Right CA for the coordinator, but a client certificate from
            # another CA, or none: TLS fails, the fleet key is never reached.
            f.worker_args = ["--bus-tls-ca", pem("ca.pem"), "--bus-tls-cert",
                             pem("stranger.pem"), "--bus-tls-key", pem("stranger.key")]
            f.add_worker(1, host_id="stranger")
            f.worker_args = ["--bus-tls-ca", pem("ca.pem")]
            f.add_worker(2, host_id="anonymous")
            time.sleep(3)
            ids = worker_ids(f)
            self.assertEqual(len(ids), 1, ids)
            self.assertFalse([i for i in ids if i.startswith(("stranger", "anonymous"))], ids)
            self.assertEqual(http("GET", f.rest + "/healthz")[1]["workers"], 1)
            for i in (1, 2):
                self.assertNotIn("fleet key verified", f.log(f"worker{i}"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
