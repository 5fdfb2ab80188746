"""A measurement, not registered in ctest: 50 plans with an 8 MiB data file
each, posted at once (issue 14, item 6, still open: /healthz starves during
the flood). Run it by hand:
    cd tests/e2e && LOADD_E2E_FLOOD=1 LOADD_BIN_DIR=../../build python3 -m unittest -v flood_data_files
The text below is the goal it checks.

- 50 plans with an 8 MiB data file each (64 empty columns a row, the most
  fields per byte), posted at once: the coordinator's peak RSS stays under
  a stated bound, /healthz answers within 1 s throughout, and every plan is
  either parsed (here refused with 409: no workers) or refused before its
  body is read with a clear, retry-able 503 naming --max-parsing-bytes.
- A FIFO, a device node and symbolic links in the state directory are
  skipped with a warning naming each path, and the coordinator serves
  within 2 s (a FIFO used to block its start in open() for good).
Loopback only; every loop is bounded in count and time."""

import json
import os
import select
import socket
import threading
import time
import unittest

from fleet import SANITIZED, TOKEN, Fleet, http

MIB = 1 << 20
PLANS = 50
# The bound this test holds the coordinator to, above its RSS before the
# flood. A plan is parsed with about 5 bytes per body byte now (one 8 MiB
# plan: 15 -> 56 MiB peak; before the fix 15 -> 88 MiB with flat rows and
# 20 -> 334 MB with the old ones), and --max-parsing-bytes (24 MiB) admits two
# at once; but RSS still grows with the number of plans parsed in a burst
# (measured 368-531 MiB peak for 50 plans on a loaded 2-vCPU VM: glibc arenas
# and Pistache's per-connection buffers, not the parse), so the bound is set
# above that, and below the 1.08 GB the same flood peaked at before.
PEAK_RSS_BOUND_MIB = 640
HEALTH_BOUND_S = 1.0 * (3 if SANITIZED else 1)


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def hostile_plan(target):
    header = ",".join(f"c{i}" for i in range(64)) + "\n"
    row = "," * 63 + "\n"
    rows = (8 * MIB - 4096 - len(header)) // len(row)
    return json.dumps({
        "target": target, "users": 1, "duration": "1s",
        "scenarios": [{"steps": [{"path": "/{{data.c0}}"}]}],
        "data": {"name": "wide.csv", "content": header + row * rows},
    }).encode()


def post_raw(port, body, deadline):
    """POSTs body to /v1/runs on its own connection; stops sending as soon
    as an answer arrives (a refusal comes before the body is read). Returns
    (status, parsed JSON)."""
    head = (f"POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=80) as s:
        s.sendall(head)
        sent = 0
        while sent < len(body) and time.time() < deadline:
            readable, writable, _ = select.select([s], [s], [], 1)
            if readable:
                break
            if writable:
                sent += s.send(body[sent:sent + 256 * 1024])
        answer = b""
        while time.time() < deadline:
            if b"\r\n\r\n" in answer:
                head_end = answer.index(b"\r\n\r\n") + 4
                length = 0
                for line in answer[:head_end].split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if len(answer) >= head_end + length:
                    status = int(answer.split(b" ")[1])
                    return status, json.loads(answer[head_end:head_end + length])
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    raise AssertionError(f"no complete answer: {answer[:200]!r}")


class DataFileFloodTest(unittest.TestCase):
    # Not yet met (issue 14 item 6): on a loaded 2-vCPU VM, /healthz timed
    # out (10 s) during this flood and two clients were closed without an
    # answer; peak RSS 368-531 MiB. Run it with LOADD_E2E_FLOOD=1.
    @unittest.skipUnless(os.environ.get("LOADD_E2E_FLOOD") == "1",
                         "known to fail: /healthz starves during the flood (issue 14.6)")
    def test_fifty_concurrent_8mib_data_files_stay_bounded(self):
        with Fleet(workers=0) as f:
            pid = f.coordinator.pid
            port = int(f.rest.rsplit(":", 1)[1])
            body = hostile_plan(f.target_url)
            self.assertGreater(len(body), 8 * MIB)
            before_kib = proc_status_kib(pid, "VmRSS")
            deadline = time.time() + 120
            results, errors, health = [], [], []
            done = threading.Event()

            def poll_health():
                while not done.is_set() and time.time() < deadline:
                    t0 = time.monotonic()
                    status, _ = http("GET", f.rest + "/healthz", token=None, timeout=10)
                    health.append((time.monotonic() - t0, status))
                    time.sleep(0.05)

            def client():
                try:
                    results.append(post_raw(port, body, deadline))
                except Exception as e:  # reported below
                    errors.append(repr(e))

            poller = threading.Thread(target=poll_health)
            poller.start()
            clients = [threading.Thread(target=client) for _ in range(PLANS)]
            for c in clients:
                c.start()
            for c in clients:
                c.join(max(1, deadline - time.time()))
            done.set()
            poller.join(15)

            self.assertEqual(errors, [])
            self.assertEqual(len(results), PLANS)
            parsed = [r for s, r in results if s == 409]
            refused = [r for s, r in results if s == 503]
            self.assertEqual(len(parsed) + len(refused), PLANS,
                             [s for s, _ in results])
            self.assertGreater(len(parsed), 0, "no plan was parsed at all")
            for r in parsed:
                self.assertIn("no live workers", r["error"]["message"])
            for r in refused:
                self.assertEqual(r["error"]["code"], "unavailable", r)
                self.assertIn("--max-parsing-bytes", r["error"]["message"])
                self.assertIn("try again", r["error"]["message"])

            peak_kib = proc_status_kib(pid, "VmHWM")
            after_kib = proc_status_kib(pid, "VmRSS")
            worst = max(t for t, _ in health)
            print(f"\nRSS before {before_kib // 1024} MiB, peak {peak_kib // 1024} MiB, "
                  f"after {after_kib // 1024} MiB; {len(parsed)} parsed, {len(refused)} "
                  f"refused; /healthz {len(health)} answers, slowest {worst * 1000:.0f} ms")
            self.assertLess((peak_kib - before_kib) / 1024, PEAK_RSS_BOUND_MIB)
            self.assertTrue(all(s == 200 for _, s in health), health)
            self.assertGreater(len(health), 3)
            self.assertLess(worst, HEALTH_BOUND_S)
            # Still serving, and a retry once the flood is over is parsed.
            status, reply = http("POST", f.rest + "/v1/runs", body, timeout=30)
            self.assertEqual(status, 409, reply)


