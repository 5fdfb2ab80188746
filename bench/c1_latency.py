#!/usr/bin/env python3
"""Generator-added latency: one connection in a closed loop, loadd beside wrk.

nginx on one core; `wrk -t1 -c1 --latency` and one loadd user with no think
time take turns on the other core against it (each run alone), --repeat
rounds interleaved. Prints each tool's median p50 and p99 (and their
spread), and loadd minus wrk. A generator that adds latency reads higher.

loadd's native HTTP/1.1 path ends a response's latency at the kernel's
receive stamp (SO_TIMESTAMPNS, common/rx_stamp.h); wrk ends it when it reads
the response in user space. The row "loadd, read time" runs loadd with
LOADD_RX_STAMPS=0, which ends latency at read time like wrk: the difference
of the two loadd rows is what the stamps take off.

    python3 bench/c1_latency.py [--build build] [--duration 5] [--repeat 3]
"""

import argparse
import os
import shutil
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_vs_wrk import bench_loadd, free_port, start_nginx  # noqa: E402


def us(text):
    """wrk's "123.45us" / "1.20ms" / "2.00s" in microseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def wrk_c1(url, duration, core):
    out = subprocess.run(["taskset", "-c", str(core), "wrk", "-t1", "-c1", f"-d{duration}s",
                          "--latency", url], capture_output=True, text=True, check=True,
                         timeout=duration * 3 + 30).stdout
    p50 = us(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = us(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return p50, p99


def loadd_c1(build, url, duration, core, tmp, stamps):
    env_before = os.environ.get("LOADD_RX_STAMPS")
    os.environ["LOADD_RX_STAMPS"] = "1" if stamps else "0"  # inherited by the worker
    try:
        _, _, run = bench_loadd(build, url, 1, duration, core, tmp)
    finally:
        if env_before is None:
            del os.environ["LOADD_RX_STAMPS"]
        else:
            os.environ["LOADD_RX_STAMPS"] = env_before
    agg = run["aggregated"]
    return float(agg["p50_us"]), float(agg["p99_us"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="loadd-c1-")
    port = free_port()
    nginx = start_nginx(tmp, port, core=1)
    url = f"http://127.0.0.1:{port}/"
    tools = {"wrk -t1 -c1": lambda: wrk_c1(url, args.duration, 0),
             "loadd, 1 user (rx stamps)": lambda: loadd_c1(args.build, url, args.duration, 0,
                                                           tmp, True),
             "loadd, read time": lambda: loadd_c1(args.build, url, args.duration, 0, tmp, False)}
    got = {name: [] for name in tools}
    load_before = os.getloadavg()
    try:
        for _ in range(args.repeat):
            for name, fn in tools.items():
                got[name].append(fn())
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"one connection, closed loop, {args.duration}s x {args.repeat} rounds, nginx on "
          f"core 1, generator on core 0; load average {load_before[0]:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    print(f"| {'generator':<26} | {'p50 us':>7} | {'p50 spread':>13} | {'p99 us':>7} | "
          f"{'p99 spread':>13} | {'p50 - wrk':>9} | {'p99 - wrk':>9} |")
    print(f"|{'-' * 28}|{'-' * 8}:|{'-' * 14}:|{'-' * 8}:|{'-' * 14}:|{'-' * 10}:|{'-' * 10}:|")
    wrk50 = statistics.median(r[0] for r in got["wrk -t1 -c1"])
    wrk99 = statistics.median(r[1] for r in got["wrk -t1 -c1"])
    for name, rounds in got.items():
        p50s, p99s = [r[0] for r in rounds], [r[1] for r in rounds]
        p50, p99 = statistics.median(p50s), statistics.median(p99s)
        print(f"| {name:<26} | {p50:>7.0f} | {min(p50s):>6.0f}-{max(p50s):<6.0f} | {p99:>7.0f} | "
              f"{min(p99s):>6.0f}-{max(p99s):<6.0f} | {p50 - wrk50:>+9.0f} | {p99 - wrk99:>+9.0f} |")


if __name__ == "__main__":
    main()
