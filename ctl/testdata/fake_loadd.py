#!/usr/bin/env python3
"""A fake `loadd` for `loadctl start --local` tests.

  fake_loadd.py coordinator --bus tcp://127.0.0.1:P --rest 127.0.0.1:R
      serves the fake REST API on R; /healthz counts the TCP connections
      open on the bus port P, one per fake worker.
  fake_loadd.py worker --coordinator tcp://127.0.0.1:P --cpu N --instance N
      connects to P and waits for SIGTERM.

Each process writes what it got (argv, the token and fleet key files named by
LOADD_TOKEN_FILE and LOADD_FLEET_KEY_FILE, with their modes) as JSON to
$FAKE_LOADD_PIDS/<pid>; the coordinator requires that token. FAKE_LOADD_FAIL=1
makes the coordinator exit at once with a message, as a broken one would.
"""

import json
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


def secret(name):
    """The content and mode of the file the environment variable names."""
    path = os.environ.get(name)
    if not path:
        return None
    with open(path) as f:
        return {"path": path, "value": f.read().strip(), "mode": os.stat(path).st_mode & 0o777}


def record_pid():
    """Writes what this child got to $FAKE_LOADD_PIDS/<pid> as JSON."""
    pid_dir = os.environ.get("FAKE_LOADD_PIDS")
    if pid_dir:
        with open(os.path.join(pid_dir, str(os.getpid())), "w") as f:
            json.dump({"argv": sys.argv[1:], "token": secret("LOADD_TOKEN_FILE"),
                       "fleet_key": secret("LOADD_FLEET_KEY_FILE")}, f)


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
    token = secret("LOADD_TOKEN_FILE")
    fake = FakeCoordinator(live_workers=lambda: len(workers),
                           token=token["value"] if token else None)
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
