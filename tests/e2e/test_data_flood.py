"""Issue 14, item 6: 50 plans with an 8 MiB data file each, posted at once
(64 empty columns a row: the most fields per byte). The coordinator holds at
most --max-parsing-bytes (24 MiB) of plan bodies at once, reserved from each
request's Content-Length before its body is read; the rest are refused at
once with a retry-able 503 naming the flag. Plans are parsed on the plan
intake's own thread, so the REST threads keep answering /healthz.

The bound this test holds the coordinator to: its peak RSS (VmHWM) rises by
less than PEAK_RSS_BOUND_MIB over its RSS before the flood. With the
defaults: at most 24 MiB of bodies held at once, one body copy each (the
REST reader takes the body itself, reserved at its Content-Length), plus the
one plan being parsed at about 4 bytes per body byte (the body, rapidjson's
parse stack and document string, the data file's copy: <= 36 MiB for a
9 MiB body), plus allocator slack. Measured 32-33 MiB on a loaded 2-vCPU
VM, slowest /healthz 22-29 ms (main before this: +534 MiB, /healthz timed
out at 10 s).

Under ASan (LOADD_SANITIZED=1) only the time bound is relaxed; ASan's
quarantine of freed memory (256 MiB by default) is the sanitizer's and is
set small for the coordinator so that RSS measures the program.
Loopback only; every loop is bounded in count and time."""

import json
import select
import socket
import subprocess
import sys
import threading
import time
import unittest

from fleet import SANITIZED, TOKEN, Fleet, http

MIB = 1 << 20
PLANS = 50

# GET /healthz every 50 ms until stdin closes, one JSON line per answer
# ([seconds, status]). Its own process: in this one, 50 threads sending
# 8 MiB each hold the GIL and would delay the poller, not the coordinator.
POLLER = """
import json, select, sys, time, urllib.request
url, stop = sys.argv[1], time.time() + float(sys.argv[2])
while time.time() < stop and not select.select([sys.stdin], [], [], 0.05)[0]:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            status = r.status
    except Exception as e:
        status = repr(e)
    print(json.dumps([time.monotonic() - t0, status]), flush=True)
"""
PEAK_RSS_BOUND_MIB = 96
HEALTH_BOUND_S = 1.0 * (3 if SANITIZED else 1)
FLOOD_DEADLINE_S = 45 * (2 if SANITIZED else 1)


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
    def test_fifty_concurrent_8mib_data_files_stay_bounded(self):
        fleet = Fleet(workers=0)
        if SANITIZED:
            fleet.env["ASAN_OPTIONS"] = (fleet.env.get("ASAN_OPTIONS", "") +
                                         ":quarantine_size_mb=8").lstrip(":")
        with fleet as f:
            pid = f.coordinator.pid
            port = int(f.rest.rsplit(":", 1)[1])
            body = hostile_plan(f.target_url)
            self.assertGreater(len(body), 8 * MIB)
            before_kib = proc_status_kib(pid, "VmRSS")
            deadline = time.time() + FLOOD_DEADLINE_S
            results, errors = [], []

            def client():
                try:
                    results.append(post_raw(port, body, deadline))
                except Exception as e:  # reported below
                    errors.append(repr(e))

            poller = subprocess.Popen(
                [sys.executable, "-c", POLLER, f.rest + "/healthz", str(FLOOD_DEADLINE_S)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            clients = [threading.Thread(target=client) for _ in range(PLANS)]
            for c in clients:
                c.start()
            for c in clients:
                c.join(max(1, deadline - time.time()))
            out, _ = poller.communicate("", timeout=30)
            health = [json.loads(line) for line in out.splitlines()]

            peak_kib = proc_status_kib(pid, "VmHWM")
            worst = max(t for t, _ in health)
            parsed = [r for s, r in results if s == 409]
            refused = [r for s, r in results if s == 503]
            print(f"\nRSS before {before_kib // 1024} MiB, peak {peak_kib // 1024} MiB; "
                  f"{len(parsed)} parsed, {len(refused)} refused, {len(errors)} without "
                  f"an answer; /healthz {len(health)} answers, slowest {worst * 1000:.0f} ms")
            self.assertLess((peak_kib - before_kib) / 1024, PEAK_RSS_BOUND_MIB)
            self.assertEqual(len(results), PLANS, errors)
            self.assertTrue(all(s == 200 for _, s in health), health)
            self.assertGreater(len(health), 1)
            self.assertLess(worst, HEALTH_BOUND_S)

            self.assertEqual(len(parsed) + len(refused), len(results),
                             [s for s, _ in results])
            self.assertGreater(len(parsed), 0, "no plan was parsed at all")
            for r in parsed:
                self.assertIn("no live workers", r["error"]["message"])
            for r in refused:
                self.assertEqual(r["error"]["code"], "unavailable", r)
                self.assertIn("--max-parsing-bytes", r["error"]["message"])
                self.assertIn("try again", r["error"]["message"])
            self.assertEqual(errors, [])

            # Still serving, and a plan alone is parsed.
            status, reply = http("POST", f.rest + "/v1/runs", body, timeout=30)
            self.assertEqual(status, 409, reply)


if __name__ == "__main__":
    unittest.main()
