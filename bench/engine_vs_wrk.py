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
import secrets
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
{listen}
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""


def make_cert(tmp):
    """A self-signed certificate for 127.0.0.1 made by the openssl CLI in tmp."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def start_nginx(tmp, port, core, tls=False, hosts=("127.0.0.1",), max_conns=4096, workers=1):
    """nginx serving 200 "ok" on every host:port, pinned to core (None: not pinned).

    With tls, it speaks HTTPS (HTTP/1.1, no h2) with a self-signed certificate.
    """
    conf = os.path.join(tmp, "nginx.conf")
    listen = "".join(f"    listen {h}:{port}{' ssl' if tls else ''} backlog=4096"
                     f"{' reuseport' if workers > 1 else ''};\n" for h in hosts)
    if tls:
        cert, key = make_cert(tmp)
        listen += (f"    ssl_certificate {cert};\n    ssl_certificate_key {key};\n"
                   "    ssl_session_cache shared:SSL:10m;\n")
    open(conf, "w").write(NGINX_CONF.format(tmp=tmp, listen=listen).replace(
        "worker_connections 4096", f"worker_connections {max_conns}; multi_accept on")
        .replace("worker_processes 1;", f"worker_processes {workers};\n"
                 f"worker_rlimit_nofile {max_conns + 100};"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    pin = ["taskset", "-c", str(core)] if core is not None else []
    p = subprocess.Popen(pin + [nginx, "-c", conf, "-e", tmp + "/nginx.err"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection((hosts[0], port), timeout=0.1).close()
            return p
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    err = open(tmp + "/nginx.err").read() if os.path.exists(tmp + "/nginx.err") else ""
    raise RuntimeError("nginx did not start: " + err[-500:])


def bench_wrk(url, conns, duration, core):
    before = children_cpu()
    out = subprocess.run(["taskset", "-c", str(core), "wrk", "-t1", f"-c{conns}",
                          f"-d{duration}s", url], capture_output=True, text=True, check=True).stdout
    cpu = children_cpu() - before
    requests = int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
    return requests, cpu


TOKEN = secrets.token_hex(24)
FLEET_KEY = secrets.token_hex(32)


def secrets_env(tmp):
    """The environment that gives loadd and loadctl this bench's token and fleet key."""
    env = dict(os.environ)
    for name, value in (("token", TOKEN), ("fleet.key", FLEET_KEY)):
        path = os.path.join(tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (value + "\n").encode())
        os.close(fd)
    env["LOADD_TOKEN_FILE"] = os.path.join(tmp, "token")
    env["LOADD_FLEET_KEY_FILE"] = os.path.join(tmp, "fleet.key")
    return env


def http_json(method, url, body=None):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def bench_loadd(build, url, conns, duration, core, tmp, plan_extra=None, worker_args=(),
                worker_prefix=(), on_running=None, before_run=None):
    """One coordinator and one worker pinned to core; returns (requests, worker cpu s, run).

    before_run(worker_pid) is called just before the run is posted, and
    on_running(worker_pid, run) every 0.2 s while it runs until it returns
    True (for memory probes).
    """
    loadd = os.path.join(build, "bin", "loadd")
    bus, rest = free_port(), free_port()
    log = open(os.path.join(tmp, "loadd.log"), "a")
    env = secrets_env(tmp)
    coord = subprocess.Popen([loadd, "coordinator", "--bus", f"tcp://127.0.0.1:{bus}", "--rest",
                              f"127.0.0.1:{rest}", "--state-dir", os.path.join(tmp, "state")],
                             stderr=log, env=env)
    worker = subprocess.Popen(list(worker_prefix) + [
        loadd, "worker", "--coordinator", f"tcp://127.0.0.1:{bus}", "--cpu", str(-1 if core is None else core)] +
        list(worker_args), stderr=log, env=env)
    try:
        base = f"http://127.0.0.1:{rest}"
        deadline = time.monotonic() + 60  # a worker under valgrind takes a while
        while True:
            try:
                if http_json("GET", base + "/healthz")["workers"] == 1:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the worker did not register; see {tmp}/loadd.log")
            time.sleep(0.05)
        plan = {"target": url, "users": conns, "duration": f"{duration}s", "graceful_stop": "1s"}
        plan.update(plan_extra or {})
        if before_run:
            before_run(worker.pid)
        before = cpu_seconds(worker.pid)
        run = http_json("POST", base + "/v1/runs", json.dumps(plan))
        probed = False
        while True:
            time.sleep(0.2)
            if on_running and not probed:
                state = http_json("GET", f"{base}/v1/runs/{run['id']}?timeline=0")
                if state["state"] == "running":
                    probed = on_running(worker.pid, state)
            state = http_json("GET", f"{base}/v1/runs/{run['id']}?timeline=0")
            if state["state"] in ("finished", "stopped", "failed"):
                break
        cpu = cpu_seconds(worker.pid) - before
        return state["totals"]["requests"], cpu, state
    finally:
        for p in (worker, coord):
            p.send_signal(signal.SIGTERM)
        for p in (worker, coord):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


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
