#!/usr/bin/env python3
"""Instructions per request on the worker's hot path, counted by callgrind.

A stable regression figure where CPU timings are noisy: instruction counts do
not depend on the machine's load. One `loadd worker` runs under
`valgrind --tool=callgrind` against nginx on loopback, twice, with a short
and a longer run (--short, --long seconds); the worker's start, registration
and connection setup are the same in both, so

    Ir per request = (Ir_long - Ir_short) / (requests_long - requests_short)

is the steady-state cost of one request (loop, parse, stats, and the
once-per-second stats message spread over the requests). Also prints the
top functions of the longer run (callgrind_annotate).

    python3 bench/callgrind_ir.py [--build build] [--users 10] [--https] [--engine curl]
"""

import argparse
import os
import shutil
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_vs_wrk import bench_loadd, free_port, start_nginx  # noqa: E402


def total_ir(path):
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def run(args, url, seconds, tmp, out):
    plan = {"tls": {"insecure": True}} if args.https else {}
    prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]
    requests, _, _ = bench_loadd(args.build, url, args.users, seconds, None, tmp,
                                 plan_extra=plan, worker_prefix=prefix,
                                 worker_args=["--engine", args.engine])
    return requests, total_ir(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--short", type=int, help="seconds (default 2; 4 with --https)")
    ap.add_argument("--long", type=int, help="seconds (default 6; 12 with --https)")
    ap.add_argument("--https", action="store_true", help="HTTPS (TLS 1.3, HTTP/1.1)")
    ap.add_argument("--engine", default="auto", choices=("auto", "native", "curl"),
                    help="the worker's --engine (auto: native, nginx offers no h2 here)")
    ap.add_argument("--top", type=int, default=15, help="functions to list (0: none)")
    args = ap.parse_args()
    # Under valgrind, TLS handshakes take the first seconds of an HTTPS run.
    args.short = args.short or (4 if args.https else 2)
    args.long = args.long or (12 if args.https else 6)
    args.build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="loadd-callgrind-")
    port = free_port()
    nginx = start_nginx(tmp, port, core=None, tls=args.https)
    url = f"{'https' if args.https else 'http'}://127.0.0.1:{port}/"
    try:
        short = run(args, url, args.short, tmp, os.path.join(tmp, "short.out"))
        long_out = os.path.join(tmp, "long.out")
        long = run(args, url, args.long, tmp, long_out)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    dreq, dir_ = long[0] - short[0], long[1] - short[1]
    if dreq <= 0:
        sys.exit(f"the longer run did not complete more requests ({short[0]} then {long[0]})")
    engine = "libcurl" if args.engine == "curl" else "native"
    print(f"{'HTTPS' if args.https else 'HTTP/1.1'} ({engine}), {args.users} users: "
          f"{short[0]} requests / {short[1]:,} Ir in {args.short}s, {long[0]} requests / "
          f"{long[1]:,} Ir in {args.long}s")
    print(f"Ir per request: {dir_ / dreq:,.0f}")
    if args.top:
        out = subprocess.run(["callgrind_annotate", "--inclusive=no", long_out],
                             capture_output=True, text=True).stdout
        rows = [l for l in out.splitlines() if re.match(r"^\s*[\d,]+ \(", l)]
        print(f"top {args.top} functions of the {args.long}s run (self Ir, whole process):")
        for line in rows[1:args.top + 1]:
            print("  " + line.strip()[:150])
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
