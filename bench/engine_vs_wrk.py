#!/usr/bin/env python3
"""Benchmark: one `loadd worker` against wrk, same target, same connections.

nginx (Debian's nginx-light) serves a fixed 200 on loopback, pinned to one
core; the generator under test is pinned to the other. For each tool it
prints requests/s and the generator's CPU time (user + sys) per request,
measured from the kernel's accounting (/proc/PID/stat), and the ratio to
wrk. Loopback only; every run is bounded by --duration.

    bench/engine_vs_wrk.py [--build build] [--connections 50] [--duration 10]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def children_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""


def start_nginx(tmp, port, core):
    conf = os.path.join(tmp, "nginx.conf")
    open(conf, "w").write(NGINX_CONF.format(tmp=tmp, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    p = subprocess.Popen(["taskset", "-c", str(core), nginx, "-c", conf, "-e", tmp + "/nginx.err"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def bench_wrk(url, conns, duration, core):
    before = children_cpu()
    out = subprocess.run(["taskset", "-c", str(core), "wrk", "-t1", f"-c{conns}",
                          f"-d{duration}s", url], capture_output=True, text=True, check=True).stdout
    cpu = children_cpu() - before
    requests = int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
    return requests, cpu


def http_json(method, url, body=None):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def bench_loadd(build, url, conns, duration, core, tmp):
    loadd = os.path.join(build, "bin", "loadd")
    bus, rest = free_port(), free_port()
    log = open(os.path.join(tmp, "loadd.log"), "w")
    coord = subprocess.Popen([loadd, "coordinator", "--bus", f"tcp://127.0.0.1:{bus}", "--rest",
                              f"127.0.0.1:{rest}", "--state-dir", os.path.join(tmp, "state")],
                             stderr=log)
    worker = subprocess.Popen([loadd, "worker", "--coordinator", f"tcp://127.0.0.1:{bus}",
                               "--cpu", str(core)], stderr=log)
    try:
        base = f"http://127.0.0.1:{rest}"
        for _ in range(100):
            try:
                if http_json("GET", base + "/healthz")["workers"] == 1:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        plan = {"target": url, "users": conns, "duration": f"{duration}s", "graceful_stop": "1s"}
        before = cpu_seconds(worker.pid)
        run = http_json("POST", base + "/v1/runs", json.dumps(plan))
        while True:
            time.sleep(0.2)
            state = http_json("GET", f"{base}/v1/runs/{run['id']}?timeline=0")
            if state["state"] in ("finished", "stopped", "failed"):
                break
        cpu = cpu_seconds(worker.pid) - before
        return state["totals"]["requests"], cpu, state
    finally:
        for p in (worker, coord):
            p.send_signal(signal.SIGTERM)
        for p in (worker, coord):
            p.wait(timeout=5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--duration", type=int, default=10)
    args = ap.parse_args()
    if os.cpu_count() < 2:
        sys.exit("needs 2 cores: target on one, generator on the other")
    tmp = tempfile.mkdtemp(prefix="loadd-bench-")
    port = free_port()
    nginx = start_nginx(tmp, port, core=1)
    url = f"http://127.0.0.1:{port}/"
    try:
        rows = []
        req, cpu = bench_wrk(url, args.connections, args.duration, core=0)
        rows.append(("wrk -t1", req, cpu))
        req, cpu, _ = bench_loadd(args.build, url, args.connections, args.duration, 0, tmp)
        rows.append(("loadd worker", req, cpu))
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=5)
    wrk_us = rows[0][2] / rows[0][1] * 1e6
    print(f"HTTP/1.1 keep-alive, {args.connections} connections, {args.duration}s, "
          f"nginx on core 1, generator on core 0")
    print(f"{'tool':<14} {'requests':>10} {'req/s':>10} {'cpu s':>7} {'cpu us/req':>11} "
          f"{'vs wrk':>7}")
    for name, req, cpu in rows:
        us = cpu / req * 1e6
        print(f"{name:<14} {req:>10} {req / args.duration:>10.0f} {cpu:>7.2f} {us:>11.2f} "
              f"{us / wrk_us:>6.2f}x")


if __name__ == "__main__":
    main()
