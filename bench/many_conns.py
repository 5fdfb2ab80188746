#!/usr/bin/env python3
"""Many connections: memory per user, and throughput per core as connections grow.

1. Throughput per core: wrk -t1 and one loadd worker at --low and --high
   connections (no think time), each pinned to core 0 with nginx on core 1:
   requests per CPU-second of the generator, and high as a share of low.
2. Memory: one loadd worker with --users users (each a live keep-alive
   connection, no think time), and wrk -t1 with as many connections: peak
   resident memory (VmRSS sampled every 0.2 s) minus the process's resident
   memory before the load (the idle, registered worker), per connection
   held, and the connections it held (ESTABLISHED to nginx, from /proc).
   For loadd also: from how many source addresses (daemon/worker/
   source_addr.h; --no-source-addrs turns them off, to compare), and whether
   the worker stayed registered (its state in the run, the run's state).

A process needs one file descriptor per connection: the harness raises its
soft RLIMIT_NOFILE to the hard limit (children inherit it). Where the hard
limit is below --users + 100 (raising it needs CAP_SYS_RESOURCE), it runs
with as many users as fit and says so. nginx runs two worker processes
(reuseport) on its core so that it can hold them all.

    python3 bench/many_conns.py [--build build] [--users 20000] [--duration 5]
        [--spawn-rate 0] [--memory-only] [--no-source-addrs]
"""

import argparse
import os
import re
import shutil
import socket
import struct
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_vs_wrk import bench_loadd, free_port, start_nginx  # noqa: E402
from peers import run_child  # noqa: E402


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
    except (OSError, AttributeError):
        return 0


def sockets(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
            except OSError:
                pass
    except OSError:
        pass
    return n


def established(pid, remote_port):
    """Local IPv4 addresses of pid's ESTABLISHED TCP sockets to remote_port."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        found = []
        with open(f"/proc/{pid}/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] != "01" or fields[9] not in inodes:  # 01: ESTABLISHED
                    continue
                if int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                    address = int(fields[1].split(":")[0], 16)
                    found.append(socket.inet_ntoa(struct.pack("<I", address)))
        return found
    except OSError:
        return []


def wrk_throughput(url, conns, duration):
    out, _, cpu = run_child(["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}",
                             f"-d{duration}s", url], duration * 3 + 30)
    return int(re.search(r"(\d+) requests in", out).group(1)), cpu


def wrk_memory(url, conns, duration):
    p = subprocess.Popen(["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{duration}s",
                          "--timeout", "10s", url], stdout=subprocess.PIPE, text=True)
    time.sleep(0.05)
    base = rss_kib(p.pid)
    peak = held = 0
    while p.poll() is None:
        peak = max(peak, rss_kib(p.pid))
        held = max(held, sockets(p.pid))
        time.sleep(0.2)
    p.stdout.read()
    return base, peak, held


def loadd_memory(build, url, users, duration, spawn_rate, tmp, source_addrs=True):
    samples = {"base": 0, "peak": 0, "held": 0, "sources": 0, "all_at_s": None, "ticks": 0}
    port = int(url.rsplit(":", 1)[1].strip("/"))
    start = [0.0]

    def before(pid):
        samples["base"] = rss_kib(pid)
        start[0] = time.monotonic()

    def sample(pid, state):
        samples["peak"] = max(samples["peak"], rss_kib(pid))
        samples["ticks"] += 1
        if samples["ticks"] % 5 == 1 or samples["held"] < users:  # /proc/net/tcp is long
            conns = established(pid, port)
            if len(conns) > samples["held"]:
                samples["held"], samples["sources"] = len(conns), len(set(conns))
            if len(conns) >= users and samples["all_at_s"] is None:
                samples["all_at_s"] = time.monotonic() - start[0]
        return False  # keep sampling until the run ends

    # Ramp at spawn_rate (0: all at once), then --duration with all of them live.
    plan = {"timeout": "10s"}
    if spawn_rate > 0:
        plan["spawn_rate"] = spawn_rate
        duration += -(-users // spawn_rate)
    prefix = () if source_addrs else ("env", "LOADD_SOURCE_ADDRS=0")
    requests, cpu, run = bench_loadd(build, url, users, duration, 0, tmp, plan_extra=plan,
                                     on_running=sample, before_run=before, worker_prefix=prefix)
    return samples, requests, run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--low", type=int, default=50)
    ap.add_argument("--high", type=int, default=2000)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--memory-only", action="store_true", help="skip the throughput part")
    ap.add_argument("--spawn-rate", type=int, default=0,
                    help="users started per second in the memory run; 0 (the default): all "
                         "at once, a connection storm")
    ap.add_argument("--no-source-addrs", action="store_true",
                    help="the worker connects from 127.0.0.1 only (--loopback-sources off, set "
                         "through its variable LOADD_SOURCE_ADDRS=0), "
                         "as before daemon/worker/source_addr.h")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    users = args.users
    if hard != resource.RLIM_INFINITY and users + 100 > hard:
        users = hard - 100
        print(f"note: RLIMIT_NOFILE's hard limit is {hard} (raising it needs "
              f"CAP_SYS_RESOURCE): {users} users instead of {args.users}")
    tmp = tempfile.mkdtemp(prefix="loadd-conns-")
    port = free_port()
    nginx = start_nginx(tmp, port, core=1, max_conns=min(users + 100, hard - 50), workers=2)
    url = f"http://127.0.0.1:{port}/"
    try:
        print(f"throughput per core, {args.duration}s runs, nginx (2 processes) on core 1, "
              f"generator on core 0; load average {os.getloadavg()[0]:.2f}")
        print(f"| {'generator':<14} | {'conns':>6} | {'requests/s':>10} | {'CPU us/req':>10} | "
              f"{'req per CPU-s':>13} | {'vs low':>6} |")
        print(f"|{'-' * 16}|{'-' * 7}:|{'-' * 11}:|{'-' * 11}:|{'-' * 14}:|{'-' * 7}:|")
        for name in () if args.memory_only else ("wrk -t1", "loadd worker"):
            per_cpu_low = None
            for conns in (args.low, args.high):
                if name == "wrk -t1":
                    req, cpu = wrk_throughput(url, conns, args.duration)
                else:
                    req, cpu, _ = bench_loadd(args.build, url, conns, args.duration, 0, tmp)
                per_cpu = req / cpu if cpu > 0 else 0
                per_cpu_low = per_cpu_low or per_cpu
                print(f"| {name:<14} | {conns:>6} | {req / args.duration:>10.0f} | "
                      f"{cpu / max(req, 1) * 1e6:>10.2f} | {per_cpu:>13.0f} | "
                      f"{per_cpu / per_cpu_low:>5.0%} |", flush=True)

        print(f"\nmemory with {users} connections (each a user with no think time), "
              f"{args.duration}s; load average {os.getloadavg()[0]:.2f}")
        # Per connection held at the peak (sockets in /proc/PID/fd), not per
        # user asked for: a run that could not connect them all is not flattered.
        print(f"| {'generator':<14} | {'conns held':>10} | {'RSS before':>10} | {'peak RSS':>10} | "
              f"{'KiB per conn':>12} |")
        print(f"|{'-' * 16}|{'-' * 11}:|{'-' * 11}:|{'-' * 11}:|{'-' * 13}:|")
        base, peak, held = wrk_memory(url, users, args.duration)
        print(f"| {'wrk -t1':<14} | {held:>10} | {base:>7} KiB | {peak:>7} KiB | "
              f"{(peak - base) / max(held, 1):>12.2f} |", flush=True)
        s, requests, run = loadd_memory(args.build, url, users, args.duration, args.spawn_rate,
                                        tmp, source_addrs=not args.no_source_addrs)
        print(f"| {'loadd worker':<14} | {s['held']:>10} | {s['base']:>7} KiB | {s['peak']:>7} KiB | "
              f"{(s['peak'] - s['base']) / max(s['held'], 1):>12.2f} |")
        worker = (run.get("workers") or [{}])[0]
        with open(os.path.join(tmp, "loadd.log"), errors="replace") as log:
            late = re.findall(r"heartbeat at most ([\d.]+) ms late", log.read())
        all_at = f"{s['all_at_s']:.1f} s after the run was posted" if s["all_at_s"] else "never"
        print(f"loadd: {users} users ({'all at once' if args.spawn_rate <= 0 else f'{args.spawn_rate}/s'}), "
              f"{s['held']} connections held at most (all {users}: {all_at}) from "
              f"{s['sources']} source address(es); {requests} requests, "
              f"{run['totals'].get('failures', 0)} failures; worker {worker.get('state')}, "
              f"run {run['state']}{': ' + run['message'] if run.get('message') else ''}; "
              f"worker's heartbeat at most {late[-1] if late else '?'} ms late")
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
