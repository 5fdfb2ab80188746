#!/usr/bin/env python3
"""A fake `loadd` for `loadctl start --local` tests.

  fake_loadd.py coordinator --bus tcp://127.0.0.1:P --rest 127.0.0.1:R
      serves the fake REST API on R; /healthz counts the TCP connections
      open on the bus port P, one per fake worker.
  fake_loadd.py worker --coordinator tcp://127.0.0.1:P --cpu N --instance N
      connects to P and waits for SIGTERM.

Each process writes its pid to $FAKE_LOADD_PIDS/<pid>. FAKE_LOADD_FAIL=1
makes the coordinator exit at once with a message, as a broken one would.
"""

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_coordinator import FakeCoordinator  # noqa: E402


def flag(name):
    args = sys.argv[2:]
    return args[args.index(name) + 1]


def record_pid():
    pid_dir = os.environ.get("FAKE_LOADD_PIDS")
    if pid_dir:
        open(os.path.join(pid_dir, str(os.getpid())), "w").close()


def coordinator():
    if os.environ.get("FAKE_LOADD_FAIL") == "1":
        print("fake loadd: cannot bind the bus: address already in use", file=sys.stderr)
        sys.exit(1)
    bus_port = int(flag("--bus").rsplit(":", 1)[1])
    rest_host, rest_port = flag("--rest").rsplit(":", 1)
    assert rest_host == "127.0.0.1", rest_host
    workers = []
    listener = socket.create_server(("127.0.0.1", bus_port))

    def accept():
        while True:
            conn, _ = listener.accept()
            workers.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    fake = FakeCoordinator(live_workers=lambda: len(workers))
    fake.server.server_close()
    from http.server import ThreadingHTTPServer
    fake.server = ThreadingHTTPServer((rest_host, int(rest_port)), fake.server.RequestHandlerClass)
    print("fake loadd coordinator on %s" % flag("--rest"), file=sys.stderr)
    fake.serve_forever()


def worker():
    host, port = flag("--coordinator").replace("tcp://", "").rsplit(":", 1)
    assert flag("--cpu") == flag("--instance")
    for _ in range(100):
        try:
            conn = socket.create_connection((host, int(port)))
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("fake loadd worker: no coordinator")
    while True:
        time.sleep(1)
    conn.close()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    record_pid()
    {"coordinator": coordinator, "worker": worker}[sys.argv[1]]()
