#!/usr/bin/env python3
"""False positives and sensitivity of run comparison (docs/compare.md).

Starts a local fleet (tests/e2e/fleet.py: loopback target, coordinator,
workers), then
  1. runs --pairs pairs of identical runs against /delay/20ms and compares
     each pair (GET /v1/compare): a pair is a false positive when any metric
     of any endpoint or the aggregate has a verdict other than no_change;
  2. for each slowdown in --slowdowns (percent), runs --trials candidate runs
     against /delay/(20 * (1 + s/100))ms and compares each with one of the
     base runs: how often p50 and p95 are called `slower`.
Every run is bounded (--users users, --duration seconds) and only loopback
is loaded.

    python3 bench/compare_fp.py [--build build] [--pairs 20] [--duration 7]
        [--users 50] [--workers 1] [--slowdowns 2,3,5,10] [--trials 5]
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--duration", type=int, default=7)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--delay-us", type=int, default=20000)
    p.add_argument("--slowdowns", default="2,3,5,10")
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--out", help="also write every comparison as JSON to this file")
    return p.parse_args()


def main():
    args = parse_args()
    os.environ["LOADD_BIN_DIR"] = os.path.abspath(args.build)
    from fleet import Fleet, http  # noqa: E402 (needs LOADD_BIN_DIR)

    def run(f, delay_us):
        plan = {"name": "compare-bench", "target": f.target_url, "users": args.users,
                "spawn_rate": args.users, "duration": f"{args.duration}s",
                "requests": [{"name": "api", "path": f"/delay/{delay_us}us"}]}
        status, body = http("POST", f.rest + "/v1/runs", json.dumps(plan))
        if status != 201:
            raise RuntimeError(f"POST /v1/runs: {status} {body}")
        final = f.wait_final(body["id"], args.duration + 60)
        if final["state"] != "finished":
            raise RuntimeError(f"run {body['id']} ended {final['state']}")
        return body["id"]

    def compare(f, base, candidate):
        status, body = http("GET", f"{f.rest}/v1/compare?base={base}&candidate={candidate}")
        if status != 200:
            raise RuntimeError(f"GET /v1/compare: {status} {body}")
        return body

    def changed(result):
        return [(g["name"], k, m["verdict"])
                for g in [result["aggregated"]] + result["endpoints"]
                for k, m in g.items() if isinstance(m, dict) and m["verdict"] != "no_change"]

    started = time.time()
    log = []
    with Fleet(workers=args.workers, target_realtime=True) as f:
        bases, false_positives = [], []
        for i in range(args.pairs):
            a, b = run(f, args.delay_us), run(f, args.delay_us)
            bases.append(a)
            result = compare(f, a, b)
            log.append(result)
            hits = changed(result)
            if hits:
                false_positives.append((a, b, hits))
            print(f"pair {i + 1:2}/{args.pairs}: {a} vs {b}: "
                  f"{'no_change' if not hits else hits}", flush=True)
        detection = {}
        for s in [float(x) for x in args.slowdowns.split(",") if x]:
            hits = {"p50": 0, "p95": 0}
            for t in range(args.trials):
                c = run(f, round(args.delay_us * (1 + s / 100)))
                result = compare(f, bases[t % len(bases)], c)
                log.append(result)
                for key in hits:
                    hits[key] += result["aggregated"][key]["verdict"] == "slower"
            detection[s] = hits
            print(f"slowdown {s:g}%: p50 slower in {hits['p50']}/{args.trials}, "
                  f"p95 slower in {hits['p95']}/{args.trials}", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(log, fh)
    print(f"\n{args.pairs} identical pairs ({args.users} users, {args.duration} s, "
          f"{args.workers} worker(s), /delay/{args.delay_us}us): "
          f"{len(false_positives)} with a verdict other than no_change "
          f"(false-positive rate {100 * len(false_positives) / args.pairs:.0f}%)")
    for a, b, hits in false_positives:
        print(f"  {a} vs {b}: {hits}")
    reliable = [s for s, h in detection.items() if h["p50"] == args.trials]
    print("smallest slowdown called slower at p50 in every trial: " +
          (f"{min(reliable):g}%" if reliable else "none of those tried"))
    print(f"took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
