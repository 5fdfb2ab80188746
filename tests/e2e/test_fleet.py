"""End-to-end: coordinator, workers and target as separate processes on
loopback, driven through loadctl and the REST API."""

import json
import os
import time
import unittest

from fleet import SANITIZED, Fleet, http, wait_until


class FleetEndToEnd(unittest.TestCase):
    def run_delay_test(self):
        """One 200-user run against /delay/20ms; returns (run, served, the
        target's own service times)."""
        with Fleet(workers=2, target_realtime=True) as f:
            out = os.path.join(f.tmp, "report.json")
            r = f.loadctl("start", "--users", "200", "--spawn-rate", "100", "--duration", "5s",
                          "--target", f.target_url + "/delay/20ms", "--out", out)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("GET /delay/20ms", r.stdout)  # the report table
            with open(out) as f_out:
                return json.load(f_out), f.served(), f.target_latency()

    def test_run_totals_shares_and_latency(self):
        # The bound: p50 and p99 of a 20 ms delay lie within
        # 20 ms + 1 ms + 2% (21.4 ms). Two parts of that are not the
        # generator's to keep: when the VM's host steals a CPU, or the
        # scheduler runs the target late, the target answers late, and an
        # exact generator must then report more than 21.4 ms. So the target
        # measures its own service time (request arrival to response written,
        # /__stats latency_us) and runs under SCHED_FIFO where allowed, and:
        #  - on every run, loadd's p50 and p99 exceed the target's own by at
        #    most 1 ms + 2%: the error loadd adds (this must hold; a
        #    generator that adds latency fails it);
        #  - the absolute 21.4 ms bound must hold on one of three runs, unless
        #    the target itself was over it on all three: then the test is
        #    skipped with the figures, because the fixture, not loadd, missed.
        bound_us = 100_000 if SANITIZED else 20000 + 1000 + 400
        # Sanitized binaries are several times slower, so there the bounds
        # only catch gross overhead; every other assertion holds as it is.
        added_us = 100_000 if SANITIZED else 1000 + 400
        misses = []
        for attempt in range(3):
            run, served, target = self.run_delay_test()
            self.assertEqual(run["state"], "finished")
            # Every request the fleet reports, the target served, and no more.
            self.assertEqual(run["totals"]["requests"], served)
            self.assertGreater(run["totals"]["requests"], 5000)
            self.assertEqual(run["totals"]["failures"], 0)
            self.assertEqual(sorted(w["users"] for w in run["workers"]), [100, 100])
            # The timeline adds up to the totals, second by second.
            self.assertEqual(sum(s["requests"] for s in run["timeline"]),
                             run["totals"]["requests"])
            self.assertEqual(target["count"], served)
            agg = run["aggregated"]
            for p, tp in (("p50_us", "p50"), ("p99_us", "p99")):
                self.assertGreaterEqual(agg[p], 20000, p)
                self.assertLessEqual(agg[p], target[tp] + added_us,
                                     f"{p}: loadd {agg[p]} us, the target's own {target[tp]} us")
            if all(agg[p] <= bound_us for p in ("p50_us", "p99_us")):
                return
            misses.append((agg["p50_us"], agg["p99_us"], target["p50"], target["p99"]))
            print(f"attempt {attempt + 1}: p50 {agg['p50_us']} us, p99 {agg['p99_us']} us; "
                  f"the target's own p50 {target['p50']} us, p99 {target['p99']} us")
        figures = "; ".join(f"loadd p50/p99 {a}/{b} us, target {c}/{d} us" for a, b, c, d in misses)
        if all(max(c, d) > bound_us for _, _, c, d in misses):
            self.skipTest(f"the target itself answered above {bound_us} us on all three runs "
                          f"(host CPU steal or scheduling); loadd added at most "
                          f"{added_us} us on each: {figures}")
        self.fail(f"p50/p99 above {bound_us / 1000} ms three times: {figures}")

    def test_stop_ends_load_within_one_second(self):
        with Fleet(workers=2) as f:
            r = f.loadctl("start", "--users", "50", "--duration", "60s", "--target",
                          f.target_url + "/delay/5ms", "--detach", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run_id = json.loads(r.stdout)["id"]
            time.sleep(2)
            self.assertGreater(f.served(), 0)
            stop = f.loadctl("stop", run_id)
            stopped_at = time.time()
            self.assertEqual(stop.returncode, 0, stop.stdout + stop.stderr)
            # Sample the target until its count stops moving.
            last, last_change = f.served(), time.time()
            while time.time() - stopped_at < 3:
                now = f.served()
                if now != last:
                    last, last_change = now, time.time()
                time.sleep(0.02)
            self.assertLess(last_change - stopped_at, 1.0, "requests reached the target "
                            f"{last_change - stopped_at:.2f}s after stop")
            wait_until(lambda: f.run(run_id)["state"] == "stopped", 5, 0.1)
            run = f.run(run_id)
            self.assertEqual(run["state"], "stopped")
            # Requests cut off by the stop are counted as interrupted, never lost:
            # the target served every completed one, and at most the cut-off ones more.
            interrupted = run["totals"]["errors"]["interrupted"]
            completed = run["totals"]["requests"] - interrupted
            self.assertLessEqual(completed, f.served())
            self.assertLessEqual(f.served(), completed + interrupted)

    def test_bad_plans_get_400_naming_the_field(self):
        with Fleet(workers=1) as f:
            cases = [
                ("{not json", "$"),
                ('{"target": "%s", "users": 10, "usres": 3}' % f.target_url, "$.usres"),
                ('{"target": "%s", "users": -5}' % f.target_url, "$.users"),
                ('{"target": "ftp://127.0.0.1/x", "users": 1}', "$.target"),
                ('{"users": 1, "requests": [{"url": "gopher://h/"}]}', "$.requests[0].url"),
                ('{"target": "%s", "users": "ten"}' % f.target_url, "$.users"),
            ]
            for body, path in cases:
                status, reply = http("POST", f.rest + "/v1/runs", body)
                self.assertEqual(status, 400, body)
                self.assertEqual(reply["error"]["path"], path, body)
                self.assertTrue(reply["error"]["message"], body)
            # Nothing changed, and the coordinator still serves.
            self.assertEqual(http("GET", f.rest + "/v1/runs")[1]["runs"], [])
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            # loadctl validates with the same code: same path, exit code 3.
            plan = os.path.join(f.tmp, "bad.json")
            with open(plan, "w") as f_plan:
                f_plan.write(cases[2][0])
            r = f.loadctl("validate", plan)
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertIn("$.users", r.stdout + r.stderr)
            r = f.loadctl("start", "--users", "2", "--duration", "1s", "--target", f.target_url)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class LocalFleet(unittest.TestCase):
    def test_local_fleet_runs_and_reports(self):
        # Only the target comes from the harness; loadctl --local starts the rest.
        with Fleet(workers=0) as f:
            r = f.loadctl("start", "--local", "--users", "20", "--duration", "2s", "--target",
                          f.target_url + "/delay/1ms", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run = json.loads(r.stdout)
            self.assertEqual(run["state"], "finished")
            self.assertEqual(len(run["workers"]), os.cpu_count())
            self.assertEqual(run["totals"]["requests"], f.served())


if __name__ == "__main__":
    unittest.main(verbosity=2)
