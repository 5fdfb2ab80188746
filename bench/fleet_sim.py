#!/usr/bin/env python3
"""Coordinator scale (issue 7 part 5): one coordinator against N simulated
workers (bench/fleet_sim.cc) on loopback.

For each N it starts a coordinator in a temp dir (its own token, fleet key
from `loadd keygen`, state dir), starts fleet_sim with N workers, waits until
all registered, starts a run through REST (the simulated workers send no
HTTP; they send one stats message per second each, 20 endpoints with
histogram deltas), then over a window of --window-s seconds samples the
coordinator's CPU (utime+stime from /proc/PID/stat) and RSS, and times
GET /v1/runs/{id} (10 requests per second, spread over the window). Then it
stops the run and compares the requests the coordinator counted with the
requests the simulator reported (lost stats show as a difference).

    python3 bench/fleet_sim.py --build build            # N = 100,1000,5000,10000
    python3 bench/fleet_sim.py --build build --n 1000 --window-s 20
    python3 bench/fleet_sim.py --build build --json-stats   # the older JSON stats

Stats are sent in the binary form real workers send (docs/wire-protocol.md);
--json-stats makes the simulator send the older JSON form, which the
coordinator still reads, to compare the two on one build. Before the table
it prints `fleet_sim --decode-bench`: the coordinator's CPU per message to
decode each form and to merge one, measured in one thread.

Columns: stats lost = messages whose requests never reached the run's
totals (after the stop, all finals in); stats late = messages of the window
that were not filed in the second they were sent for (the coordinator files
by arrival: one merged more than 0.5 s after its second ended lands in the
next), counted as the workers missing from each closed second of the window.

Builds the targets `loadd` and `fleet_sim` in --build first (skip with
--no-build). Prints a table; --json FILE also writes the rows.
"""

import argparse
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_secret(path, value):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")


def cpu_seconds(pid):
    """utime + stime of pid (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Api:
    def __init__(self, port, token):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def json(self, method, path, body=None, timeout=30):
        status, raw = self.call(method, path, body, timeout)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")


class SimReader(threading.Thread):
    """Keeps the simulator's latest counters line."""

    def __init__(self, proc, log_path):
        super().__init__(daemon=True)
        self.proc = proc
        self.log_path = log_path
        self.last = {}

    def run(self):
        with open(self.log_path, "w") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self._parse(line)

    def _parse(self, line):
        try:
            self.last = json.loads(line)
        except ValueError:
            pass


def wait_for(what, fn, timeout_s, proc_list=()):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for p in proc_list:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: a process exited (code {p.returncode})")
        value = fn()
        if value:
            return value
        time.sleep(0.25)
    raise RuntimeError(f"timed out after {timeout_s}s waiting for {what}")


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def measure(args, n):
    loadd = args.loadd or os.path.join(args.build, "bin", "loadd")
    sim_bin = os.path.join(args.build, "bench", "fleet_sim")
    tmp = tempfile.mkdtemp(prefix=f"fleetsim-{n}-")
    token = secrets.token_hex(24)
    write_secret(os.path.join(tmp, "token"), token)
    key = subprocess.run([loadd, "keygen"], check=True, capture_output=True,
                         text=True).stdout.strip()
    write_secret(os.path.join(tmp, "fleet.key"), key)
    rest_port, bus_port = free_port(), free_port()
    bus = f"tcp://127.0.0.1:{bus_port}"
    coord_log = open(os.path.join(tmp, "coordinator.log"), "w")
    coord = subprocess.Popen(
        [loadd, "coordinator", "--bus", bus, "--rest", f"127.0.0.1:{rest_port}",
         "--state-dir", os.path.join(tmp, "state"),
         "--token-file", os.path.join(tmp, "token"),
         "--fleet-key-file", os.path.join(tmp, "fleet.key")] + args.coordinator_arg,
        stdout=coord_log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    api = Api(rest_port, token)
    sim = None
    try:
        wait_for("the coordinator's REST API", lambda: _health(api) is not None, 15, [coord])
        sim = subprocess.Popen(
            [sim_bin, "--bus", bus, "--fleet-key-file", os.path.join(tmp, "fleet.key"),
             "--workers", str(n), "--endpoints", str(args.endpoints),
             "--requests-per-endpoint", str(args.requests_per_endpoint),
             "--max-seconds", str(args.window_s + 300)]
            + (["--json-stats"] if args.json_stats else [])
            + (["--always-heartbeat"] if args.always_heartbeat else []),
            stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "sim.err"), "w"),
            text=True, preexec_fn=raise_nofile)
        reader = SimReader(sim, os.path.join(tmp, "sim.out"))
        reader.start()
        t0 = time.monotonic()
        wait_for(f"{n} registered workers", lambda: (_health(api) or 0) >= n,
                 30 + n / 50, [coord, sim])
        register_s = time.monotonic() - t0
        duration_s = int(args.window_s + args.warmup_s + 30)
        plan = {"name": f"fleet-sim-{n}", "target": "http://127.0.0.1:9",
                "users": n * 4, "duration": f"{duration_s}s",
                "requests": [{"name": "home", "path": "/"}]}
        status, created = api.json("POST", "/v1/runs", plan)
        if status != 201:
            raise RuntimeError(f"POST /v1/runs: {status} {created}")
        run_id = created["id"]
        try:
            wait_for("every simulated worker assigned",
                     lambda: reader.last.get("assigned", 0) >= n, 10 + n / 200, [coord, sim])
        except RuntimeError:
            # Measured anyway: the table shows how many got the assignment.
            print(f"  only {reader.last.get('assigned', 0)} of {n} workers got the "
                  "assignment", file=sys.stderr)
        time.sleep(args.warmup_s)
        row = window(args, api, run_id, coord, sim, reader, n)
        row["assigned"] = reader.last.get("assigned", 0)
        row["register_s"] = round(register_s, 1)
        # Stop, let the finals arrive, and compare request totals.
        api.call("POST", f"/v1/runs/{run_id}/stop")
        final = wait_for("the run to end", lambda: _ended(api, run_id), 60, [coord])
        try:
            wait_for("the simulator's finals",
                     lambda: reader.last.get("running", 1) == 0, 20)
        except RuntimeError:
            print(f"  {reader.last.get('running')} simulated workers never got the "
                  "stop", file=sys.stderr)
        time.sleep(1.2)  # one more counters line
        sent = reader.last.get("requests_sent", 0)
        counted = final["totals"]["requests"]
        per_msg = args.endpoints * args.requests_per_endpoint
        row.update(requests_sent=sent, requests_counted=counted,
                   lost_requests=sent - counted, stats_lost=round((sent - counted) / per_msg),
                   run_state=final["state"],
                   send_failures=reader.last.get("send_failures", 0),
                   disconnects=reader.last.get("disconnects", 0))
        return row
    finally:
        for p in (sim, coord):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        coord_log.close()
        print(f"  (logs in {tmp})", file=sys.stderr)


def _health(api):
    try:
        status, body = api.json("GET", "/healthz", timeout=5)
    except OSError:
        return None
    return body.get("workers") if status == 200 and isinstance(body, dict) else None


def _ended(api, run_id):
    status, body = api.json("GET", f"/v1/runs/{run_id}?timeline=0")
    if status == 200 and body["state"] in ("stopped", "finished", "failed"):
        return body
    return None


def window(args, api, run_id, coord, sim, reader, n):
    """Samples CPU and RSS and times GET /v1/runs/{id} over the window."""
    gets = int(args.window_s * 10)
    c0, s0, t0 = cpu_seconds(coord.pid), cpu_seconds(sim.pid), time.monotonic()
    stats0 = reader.last.get("stats_sent", 0)
    rss_max, latencies_ms, errors, counted = 0.0, [], 0, []
    first_second, late, running = None, None, 0
    for i in range(gets):
        due = t0 + i * args.window_s / gets
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        start = time.monotonic()
        try:
            status, body = api.call("GET", f"/v1/runs/{run_id}", timeout=30)
        except OSError:
            status = 0
        latencies_ms.append((time.monotonic() - start) * 1000)
        if status == 200 and (i == 0 or i == gets - 1):
            doc = json.loads(body)
            counted.append((time.monotonic(), doc["totals"]["requests"]))
            timeline = doc.get("timeline", [])
            running = max(running, reader.last.get("running", 0))
            if i == 0:
                first_second = len(timeline)
            elif first_second is not None:
                # Workers missing from each second closed during the window.
                late = sum(max(0, running - s["workers"]) for s in timeline[first_second:])
        errors += status != 200
        if i % 10 == 0:
            rss_max = max(rss_max, rss_mib(coord.pid))
    elapsed = time.monotonic() - t0
    c1, s1 = cpu_seconds(coord.pid), cpu_seconds(sim.pid)
    stats1 = reader.last.get("stats_sent", 0)
    # Stats messages the coordinator merged in the window (each reports
    # endpoints x requests_per_endpoint requests), and its CPU per message:
    # the figure that holds even when a busy machine starves it.
    merged = 0
    if len(counted) == 2:
        merged = (counted[1][1] - counted[0][1]) / (args.endpoints * args.requests_per_endpoint)
    return {
        "merged_per_s": round(merged / elapsed),
        "coord_us_per_msg": round(1e6 * (c1 - c0) / merged) if merged > 0 else None,
        "workers": n,
        "coord_cpu_pct": round(100 * (c1 - c0) / elapsed, 1),
        "coord_rss_mib": round(max(rss_max, rss_mib(coord.pid)), 1),
        "coord_threads": threads(coord.pid),
        "get_p50_ms": round(percentile(latencies_ms, 50), 1),
        "get_p99_ms": round(percentile(latencies_ms, 99), 1),
        "get_errors": errors,
        "stats_per_s": round((stats1 - stats0) / elapsed),
        "sim_cpu_pct": round(100 * (s1 - s0) / elapsed, 1),
        "stats_late": late,
    }


COLUMNS = [("workers", "N"), ("assigned", "assigned"), ("coord_cpu_pct", "coord CPU %"),
           ("coord_rss_mib", "coord RSS MiB"), ("get_p50_ms", "GET p50 ms"),
           ("get_p99_ms", "GET p99 ms"), ("stats_per_s", "stats sent/s"), ("merged_per_s", "merged/s"),
           ("coord_us_per_msg", "coord CPU us/msg"),
           ("stats_lost", "stats lost"), ("stats_late", "stats late"),
           ("sim_cpu_pct", "sim CPU %"),
           ("register_s", "register s")]


def print_table(rows):
    print("| " + " | ".join(h for _, h in COLUMNS) + " |")
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for r in rows:
        print("| " + " | ".join("-" if r.get(k) is None else str(r[k]) for k, _ in COLUMNS)
              + " |")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(here, "..", "build"))
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--loadd", help="the loadd binary to run as coordinator "
                   "(default BUILD/bin/loadd; to compare builds)")
    p.add_argument("--n", default="100,1000,5000,10000")
    p.add_argument("--window-s", type=float, default=10)
    p.add_argument("--warmup-s", type=float, default=3)
    p.add_argument("--endpoints", type=int, default=20)
    p.add_argument("--requests-per-endpoint", type=int, default=200)
    p.add_argument("--always-heartbeat", action="store_true",
                   help="simulated workers heartbeat every interval even while "
                        "sending stats (workers before they left those out)")
    p.add_argument("--json-stats", action="store_true",
                   help="the simulator sends the older JSON stats form")
    p.add_argument("--coordinator-arg", action="append", default=[],
                   help="extra flag for `loadd coordinator` (repeatable)")
    p.add_argument("--json", help="also write the rows to this file")
    args = p.parse_args()
    if not args.no_build:
        subprocess.run(["cmake", "--build", args.build, "-j2", "--target", "loadd",
                        "fleet_sim"], check=True, stdout=subprocess.DEVNULL)
    bench = subprocess.run(
        [os.path.join(args.build, "bench", "fleet_sim"), "--decode-bench", "--endpoints",
         str(args.endpoints), "--requests-per-endpoint", str(args.requests_per_endpoint)],
        capture_output=True, text=True)
    print("decode bench (coordinator CPU per stats message, one thread): "
          + (bench.stdout.strip() or bench.stderr.strip()))
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    for n in [int(x) for x in args.n.split(",")]:
        print(f"N = {n} ...", file=sys.stderr)
        try:
            row = measure(args, n)
        except RuntimeError as e:
            row = {"workers": n, "error": str(e)}
            print(f"  N = {n}: {e}", file=sys.stderr)
        print("  " + json.dumps(row), file=sys.stderr)
        rows.append(row)
    print(f"stats form: {'JSON' if args.json_stats else 'binary'}; load average before "
          f"{load0}, after {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs")
    print_table(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
