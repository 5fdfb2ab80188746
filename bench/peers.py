#!/usr/bin/env python3
"""Peer benchmark: loadd beside wrk, hey, ab, autocannon and Locust, same target.

nginx serves a fixed 200 on loopback, pinned to one core; each generator in
turn is pinned to the other core with the same connections and duration. For
each it records the requests completed and the CPU time (user + sys) of the
generator and every process it started (wait4's rusage; for one loadd worker
the worker's own /proc/PID/stat, since its coordinator is not part of the
engine), and prints per protocol: requests/s, CPU microseconds per request,
and the ratio to wrk's CPU per request.

The machine may be shared: every tool runs --repeat times, interleaved with
the others so that noise hits all alike; the table shows the median, the
spread (min-max of CPU us/request) and the load average. "vs wrk" is the
median over rounds of (tool / wrk of the same round).

    python3 bench/peers.py                          # everything, 5 s runs
    python3 bench/peers.py --duration 10 --repeat 5 # on a quiet machine
    python3 bench/peers.py --tools wrk,loadd --protocols http --duration 1

Loopback only; every run is bounded by --duration (and killed at 3x + 30 s).
Needs: wrk, nginx, openssl; optional: hey, ab (apache2-utils), node (autocannon
from bench/package.json, installed here with `npm ci` on first use),
/usr/bin/python3 with python3-locust. scripts/install-deps.sh installs all.
"""

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_vs_wrk import bench_loadd, free_port, start_nginx  # noqa: E402

ALL_TOOLS = ["wrk", "hey", "ab", "autocannon", "locust", "loadd", "fleet"]
LABELS = {
    "wrk": "wrk -t1",
    "hey": "hey",
    "ab": "ab -k",
    "autocannon": "autocannon",
    "locust": "locust FastHttpUser",
    "loadd": "loadd worker",
    "fleet": "loadd local fleet",
}


class Skip(Exception):
    """The tool is not installed here: its row says how to get it."""


def run_child(argv, timeout, env=None, cwd=None):
    """Runs argv to its end; returns (stdout, stderr, cpu s of it and its reaped children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {p.returncode}: {stderr[-800:] or stdout[-800:]}")
    return stdout, stderr, usage.ru_utime + usage.ru_stime


def need(binary, how):
    path = shutil.which(binary)
    if path is None:
        raise Skip(f"not installed ({how})")
    return path


def pin(core):
    return ["taskset", "-c", str(core)]


class Ctx:
    def __init__(self, args, url, scheme, tmp):
        self.build = args.build
        self.conns = args.connections
        self.duration = args.duration
        self.core = args.generator_core
        self.url = url
        self.scheme = scheme
        self.tmp = tmp
        self.timeout = args.duration * 3 + 180


def tool_wrk(ctx):
    need("wrk", "apt-get install wrk")
    out, _, cpu = run_child(pin(ctx.core) + ["wrk", "-t1", f"-c{ctx.conns}", f"-d{ctx.duration}s",
                                             ctx.url], ctx.timeout)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return requests, cpu, errors


def tool_hey(ctx):
    need("hey", "apt-get install hey")
    out, _, cpu = run_child(pin(ctx.core) + ["hey", "-z", f"{ctx.duration}s", "-c",
                                             str(ctx.conns), ctx.url], ctx.timeout)
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get ", out, re.M))
    return codes.get(200, 0), cpu, errors + sum(n for c, n in codes.items() if c != 200)


def tool_ab(ctx):
    need("ab", "apt-get install apache2-utils")
    # -t alone caps at 50,000 requests; -n lifts the cap, -t still ends the run.
    out, _, cpu = run_child(pin(ctx.core) + ["ab", "-q", "-k", "-c", str(ctx.conns), "-t",
                                             str(ctx.duration), "-n", "100000000", ctx.url],
                            ctx.timeout)
    requests = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    m = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return requests, cpu, failed + (int(m.group(1)) if m else 0)


def tool_autocannon(ctx):
    node = need("node", "apt-get install nodejs npm")
    script = os.path.join(HERE, "node_modules", "autocannon", "autocannon.js")
    if not os.path.exists(script):
        need("npm", "apt-get install npm")
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    env = dict(os.environ, NODE_TLS_REJECT_UNAUTHORIZED="0")  # the self-signed certificate
    out, _, cpu = run_child(pin(ctx.core) + [node, script, "-c", str(ctx.conns), "-d",
                                             str(ctx.duration), "-j", ctx.url], ctx.timeout, env=env)
    result = json.loads(out)
    return result["2xx"], cpu, result["errors"] + result["timeouts"] + result["non2xx"]


def tool_locust(ctx):
    python = "/usr/bin/python3"  # Debian's python3-locust lives there, not in a venv
    if subprocess.run([python, "-c", "import locust"], capture_output=True).returncode != 0:
        raise Skip("not installed (apt-get install python3-locust)")
    mark = os.path.join(ctx.tmp, "locust.json")
    env = dict(os.environ, LOADD_BENCH_LOCUST_OUT=mark,
               LOADD_BENCH_LOCUST_DURATION=str(ctx.duration))
    # The locustfile opens its window once the load is steady and stops Locust
    # --duration later; --run-time is only a backstop.
    run_child(pin(ctx.core) + [
        python, "-m", "locust", "-f", os.path.join(HERE, "locustfile.py"), "--headless",
        "-u", str(ctx.conns), "-r", str(ctx.conns), "-t", f"{ctx.duration + 150}s",
        "--host", ctx.url, "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "1",
        "--exit-code-on-error", "0"], ctx.timeout, env=env)
    with open(mark) as f:
        m = json.load(f)
    # Scaled to --duration so that requests/s in the table is per second of steady load.
    scale = ctx.duration / m["wall"]
    ok = m["requests"] - m["failures"]
    return round(ok * scale), m["cpu"] * scale, m["failures"]


def tool_loadd(ctx):
    plan = {"tls": {"insecure": True}} if ctx.scheme == "https" else {}
    _, cpu, run = bench_loadd(ctx.build, ctx.url, ctx.conns, ctx.duration, ctx.core, ctx.tmp,
                              plan_extra=plan)
    return ok_and_errors(run["totals"], cpu)


def ok_and_errors(totals, cpu):
    """(successful requests, cpu, failed requests) from a run's totals."""
    errors = totals.get("failures")
    if errors is None:
        errors = totals.get("errors", 0)
        if isinstance(errors, dict):  # by kind: connect, timeout, status, ...
            errors = sum(errors.values())
    return totals["requests"] - errors, cpu, errors


def tool_fleet(ctx):
    loadctl = os.path.join(ctx.build, "bin", "loadctl")
    plan = {"target": ctx.url, "users": ctx.conns, "duration": f"{ctx.duration}s",
            "graceful_stop": "1s"}
    if ctx.scheme == "https":
        plan["tls"] = {"insecure": True}
    path = os.path.join(ctx.tmp, "fleet-plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    out_file = os.path.join(ctx.tmp, "fleet-run.json")
    env = dict(os.environ, LOADD_BIN=os.path.join(ctx.build, "bin", "loadd"))
    # The fleet pins one worker per core itself (the target's core too): no taskset.
    _, _, cpu = run_child([loadctl, "start", path, "--local", "--out", out_file], ctx.timeout,
                          env=env, cwd=ctx.tmp)
    with open(out_file) as f:
        return ok_and_errors(json.load(f)["totals"], cpu)


TOOLS = {
    "wrk": tool_wrk, "hey": tool_hey, "ab": tool_ab, "autocannon": tool_autocannon,
    "locust": tool_locust, "loadd": tool_loadd, "fleet": tool_fleet,
}


def loadavg():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def bench_protocol(args, scheme, tools):
    tmp = tempfile.mkdtemp(prefix=f"loadd-peers-{scheme}-")
    port = free_port()
    nginx = start_nginx(tmp, port, core=args.target_core, tls=scheme == "https")
    url = f"{scheme}://127.0.0.1:{port}/"
    results = {t: [] for t in tools}  # per round: (requests, cpu, errors) or a Skip message
    before = loadavg()
    try:
        for rnd in range(args.repeat):
            for tool in tools:
                if results[tool] and isinstance(results[tool][0], str):
                    continue  # skipped
                try:
                    results[tool].append(TOOLS[tool](Ctx(args, url, scheme, tmp)))
                except Skip as e:
                    results[tool].append(str(e))
                except Exception as e:  # one tool failing must not lose the others' figures
                    print(f"  {tool} ({scheme}, round {rnd + 1}): {e}", file=sys.stderr)
                    results[tool].append(None)
                if args.verbose and results[tool][-1] is not None:
                    print(f"  round {rnd + 1} {tool}: {results[tool][-1]}", file=sys.stderr)
    finally:
        nginx.send_signal(15)
        nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"scheme": scheme, "results": results, "load_before": before, "load_after": loadavg()}


def summarize(args, bench):
    rows = []
    res = bench["results"]
    wrk_rounds = res.get("wrk", [])
    for tool, rounds in res.items():
        if rounds and isinstance(rounds[0], str):
            rows.append({"tool": LABELS[tool], "skipped": rounds[0]})
            continue
        ok = [(i, r) for i, r in enumerate(rounds) if r is not None and r[0] > 0]
        if not ok:
            rows.append({"tool": LABELS[tool], "skipped": "failed (see stderr)"})
            continue
        us = [r[1] / r[0] * 1e6 for _, r in ok]
        rps = [r[0] / args.duration for _, r in ok]
        ratios = []
        for i, r in ok:
            w = wrk_rounds[i] if i < len(wrk_rounds) else None
            if w and not isinstance(w, str) and w[0] > 0 and w[1] > 0:
                ratios.append((r[1] / r[0]) / (w[1] / w[0]))
        rows.append({
            "tool": LABELS[tool], "rps": statistics.median(rps),
            "us": statistics.median(us), "us_min": min(us), "us_max": max(us),
            "ratio": statistics.median(ratios) if ratios else None,
            "errors": sum(r[2] for _, r in ok), "runs": len(ok),
        })
    return rows


def print_table(args, bench, rows, out):
    scheme = "HTTPS (TLS 1.3, HTTP/1.1)" if bench["scheme"] == "https" else "HTTP/1.1"
    print(f"\n{scheme} keep-alive, {args.connections} connections, {args.duration}s x "
          f"{args.repeat} rounds, nginx on core {args.target_core}, generator on core "
          f"{args.generator_core}", file=out)
    print(f"{bench['load_before']} before, {bench['load_after']} after", file=out)
    print(f"| {'tool':<20} | {'requests/s':>10} | {'CPU us/req':>10} | {'spread (min-max)':>16} "
          f"| {'vs wrk':>6} | {'errors':>6} |", file=out)
    print(f"|{'-' * 22}|{'-' * 12}:|{'-' * 11}:|{'-' * 17}:|{'-' * 7}:|{'-' * 7}:|", file=out)
    for r in rows:
        if "skipped" in r:
            print(f"| {r['tool']:<20} | {r['skipped']} |", file=out)
            continue
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        spread = f"{r['us_min']:.2f}-{r['us_max']:.2f}"
        print(f"| {r['tool']:<20} | {r['rps']:>10.0f} | {r['us']:>10.2f} | {spread:>16} "
              f"| {ratio:>6} | {r['errors']:>6} |", file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"),
                    help="build directory with bin/loadd and bin/loadctl (default: build)")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--duration", type=int, default=5, help="seconds per run")
    ap.add_argument("--repeat", type=int, default=3, help="rounds per tool (median shown)")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS),
                    help="comma-separated subset of " + ",".join(ALL_TOOLS))
    ap.add_argument("--protocols", default="http,https", help="http, https, or http,https for both")
    ap.add_argument("--target-core", type=int, default=1)
    ap.add_argument("--generator-core", type=int, default=0)
    ap.add_argument("--json", help="also write the raw rounds and the tables to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every round")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    tools = [t for t in args.tools.split(",") if t]
    bad = [t for t in tools if t not in TOOLS]
    if bad:
        ap.error(f"--tools: unknown {','.join(bad)}; choose from {','.join(ALL_TOOLS)}")
    protocols = [p for p in args.protocols.split(",") if p]
    if any(p not in ("http", "https") for p in protocols):
        ap.error(f"--protocols: {args.protocols!r}; use http, https or http,https")
    if args.duration < 1 or args.repeat < 1 or args.connections < 1:
        ap.error("--duration, --repeat and --connections must be at least 1")
    if os.cpu_count() < 2:
        sys.exit("peers.py needs 2 cores: the target on one, the generator on the other")
    for tool, binary in (("loadd", "loadd"), ("fleet", "loadd"), ("fleet", "loadctl")):
        if tool in tools and not os.path.exists(os.path.join(args.build, "bin", binary)):
            sys.exit(f"--build: no {binary} in {args.build}/bin; build it "
                     f"(cmake --build {args.build} --target loadd loadctl) or pass --build DIR")
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().release}; {loadavg()}")
    report = []
    for scheme in protocols:
        bench = bench_protocol(args, scheme, tools)
        rows = summarize(args, bench)
        print_table(args, bench, rows, sys.stdout)
        sys.stdout.flush()
        report.append({"scheme": scheme, "rows": rows, "rounds": bench["results"],
                       "load_before": bench["load_before"], "load_after": bench["load_after"]})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "tables": report}, f, indent=1)


if __name__ == "__main__":
    main()
