"""sd_notify without systemd: NOTIFY_SOCKET points at a datagram socket this
test reads, as systemd's would be. The worker says READY=1 only once the
coordinator welcomed it, STATUS= names its run and users, WATCHDOG=1 comes
at half of WATCHDOG_USEC (from its event loop), STOPPING=1 on SIGTERM. The
coordinator says READY=1 once REST and the bus listen."""

import json
import os
import signal
import socket
import statistics
import struct
import time
import unittest

from fleet import Fleet, http

WATCHDOG_USEC = 600_000  # pings expected every 300 ms


class NotifySocket:
    """The manager's end: every datagram with the sender's pid."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.05)
        self.got = []  # (monotonic time, pid, text)
        self.cursor = 0  # wait_for looks from here on

    def poll(self, seconds):
        """Reads for `seconds`; returns the messages that came."""
        start = len(self.got)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            pid = 0
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", payload[:12])[0]
            for line in data.decode().splitlines():
                self.got.append((time.monotonic(), pid, line))
        return self.got[start:]

    def wait_for(self, pred, seconds):
        """The first message after the one the last wait_for returned whose
        text satisfies pred; None after `seconds` without one."""
        deadline = time.monotonic() + seconds
        while True:
            while self.cursor < len(self.got):
                m = self.got[self.cursor]
                self.cursor += 1
                if pred(m[2]):
                    return m
            if time.monotonic() >= deadline:
                return None
            self.poll(0.1)

    def close(self):
        self.sock.close()


class SdNotify(unittest.TestCase):
    def setUp(self):
        self.fleet = Fleet(workers=0)
        self.coordinator_socket = NotifySocket(os.path.join(self.fleet.tmp, "coordinator.sock"))
        self.worker_socket = NotifySocket(os.path.join(self.fleet.tmp, "worker.sock"))
        self.addCleanup(self.coordinator_socket.close)
        self.addCleanup(self.worker_socket.close)
        # The coordinator (started by Fleet) talks to its own socket.
        self.fleet.env["NOTIFY_SOCKET"] = self.coordinator_socket.path

    def test_coordinator_ready_once_listening(self):
        with self.fleet as f:
            ready = self.coordinator_socket.wait_for(lambda t: t == "READY=1", 10)
            self.assertIsNotNone(ready, "the coordinator sent no READY=1")
            self.assertEqual(ready[1], f.coordinator.pid)
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            status = self.coordinator_socket.wait_for(lambda t: t.startswith("STATUS="), 5)
            self.assertIsNotNone(status, "the coordinator sent no STATUS=")
            self.assertIn("0 workers", status[2])

    def test_worker_ready_after_registration_status_watchdog_stopping(self):
        with self.fleet as f:
            # No coordinator yet: the worker pings the watchdog but is not ready.
            f.kill_coordinator()
            f.env = dict(f.env, NOTIFY_SOCKET=self.worker_socket.path,
                         WATCHDOG_USEC=str(WATCHDOG_USEC))
            worker = f.add_worker(0)
            early = self.worker_socket.poll(2.0)
            self.worker_socket.cursor = len(self.worker_socket.got)
            texts = [t for _, _, t in early]
            self.assertNotIn("READY=1", texts, "READY=1 before any coordinator was there")
            self.assertTrue(any(t.startswith("STATUS=connecting to") for t in texts), texts)
            self.assertTrue(all(pid == worker.pid for _, pid, _ in early), early)
            pings = [at for at, _, t in early if t == "WATCHDOG=1"]
            self.assertGreaterEqual(len(pings), 4, texts)
            gap = statistics.median(b - a for a, b in zip(pings, pings[1:]))
            self.assertGreater(gap, 0.2, f"pings every {gap:.3f}s, half of 0.6s expected")
            self.assertLess(gap, 0.45, f"pings every {gap:.3f}s, half of 0.6s expected")

            f.env["NOTIFY_SOCKET"] = self.coordinator_socket.path
            f.env.pop("WATCHDOG_USEC")
            f.restart_coordinator()
            ready = self.worker_socket.wait_for(lambda t: t == "READY=1", 10)
            self.assertIsNotNone(ready, "no READY=1 after the coordinator came")
            f.wait_workers(1)

            r = f.loadctl("start", "--users", "5", "--duration", "3s", "--target",
                          f.target_url + "/delay/5ms", "--detach", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run_id = json.loads(r.stdout)["id"]
            busy = self.worker_socket.wait_for(
                lambda t: t.startswith("STATUS=") and f"run {run_id}: 5 users" in t, 10)
            self.assertIsNotNone(busy, [t for _, _, t in self.worker_socket.got][-10:])
            idle = self.worker_socket.wait_for(
                lambda t: t.startswith("STATUS=registered with") and t.endswith("idle"), 10)
            self.assertIsNotNone(idle, "the status never went back to idle")

            worker.send_signal(signal.SIGTERM)
            stopping = self.worker_socket.wait_for(lambda t: t == "STOPPING=1", 10)
            self.assertIsNotNone(stopping, "no STOPPING=1 on SIGTERM")
            self.assertEqual(worker.wait(10), 0)
            self.assertEqual([t for _, _, t in self.worker_socket.got].count("READY=1"), 1)


if __name__ == "__main__":
    unittest.main()
