"""Issue 14, item 1: one regex must not take down the fleet.

With libstdc++'s std::regex (recursive per character) both plans below
crashed every worker with a stack overflow and the run ended `failed`. With
RE2 each run ends `finished`, both workers stay registered, and a regex that
finds nothing is a counted failure. A pattern RE2 cannot compile is refused at
validation (loadctl validate and POST /v1/runs) with its JSON path.
"""

import json
import os
import time
import unittest

from fleet import Fleet, http

TOKEN_BYTES = 60_000


class RegexOnHostileBodies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fleet = Fleet(workers=2).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.fleet.__exit__(None, None, None)

    def run_plan(self, plan):
        """Runs the plan with loadctl; returns the finished run's report."""
        f = self.fleet
        path = os.path.join(f.tmp, "plan.json")
        with open(path, "w") as out:
            json.dump(plan, out)
        report = os.path.join(f.tmp, "report.json")
        r = f.loadctl("start", path, "--out", report, timeout=60)
        with open(report) as f_report:
            run = json.load(f_report)
        self.assertEqual(run["state"], "finished", r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assert_workers_alive()
        return run

    def assert_workers_alive(self):
        f = self.fleet
        for p in f.workers:
            self.assertIsNone(p.poll(), "a worker process exited")
        workers = http("GET", f.rest + "/v1/workers")[1]["workers"]
        self.assertEqual(len(workers), 2, workers)
        self.assertEqual(sorted(w["state"] for w in workers), ["idle", "idle"], workers)

    def checks(self, run):
        return {c["name"]: (c["passed"], c["failed"]) for c in run["checks"]}

    def requests(self, run, name):
        return sum(e["requests"] for e in run["endpoints"] if e["name"] == name)

    def test_a_60kb_line_with_an_extract_regex(self):
        body = json.dumps({"token": "x" * TOKEN_BYTES}, separators=(",", ":"))
        run = self.run_plan({
            "target": self.fleet.target_url, "users": 2, "duration": "2s",
            "scenarios": [{"steps": [
                {"name": "echo", "method": "POST", "path": "/echo", "body": body,
                 "extract": {"tok": {"regex": '"token":"(.*)"'}}},
                # The extracted value is sent back: all of it is the token's.
                {"name": "again", "method": "POST", "path": "/echo",
                 "body": '{"t":"{{tok}}"}',
                 "checks": [{"body_regex": '^{"t":"x+"}$'}]},
            ]}]})
        echoes = self.requests(run, "echo")
        self.assertGreater(echoes, 0)
        self.assertEqual(self.checks(run)["echo: extract tok"], (echoes, 0))
        again = self.requests(run, "again")
        self.assertGreater(again, 0)
        self.assertEqual(self.checks(run)['again: body matches /^{"t":"x+"}$/'], (again, 0))
        self.assertEqual(run["totals"]["failures"], 0)

    def test_a_1mib_body_with_body_regex(self):
        run = self.run_plan({
            "target": self.fleet.target_url, "users": 2, "duration": "2s",
            "scenarios": [{"steps": [
                {"name": "mib", "path": "/bytes/1MiB",
                 # The filler has no 'Z': a counted failure on every response.
                 "checks": [{"body_regex": "(.|\n)*Z"},
                            # ... but lines ending "xyz\n": a match across 1 MiB.
                            {"body_regex": "(.|\n)*xyz\n"}]},
            ]}]})
        n = self.requests(run, "mib")
        self.assertGreater(n, 0)
        checks = self.checks(run)
        self.assertEqual(checks["mib: body matches /(.|\n)*Z/"], (0, n))
        self.assertEqual(checks["mib: body matches /(.|\n)*xyz\n/"], (n, 0))

    def test_a_pattern_re2_cannot_compile_is_refused_with_its_path(self):
        f = self.fleet
        cases = [
            ({"extract": {"tok": {"regex": '"token":"(.*"'}}},
             "$.scenarios[0].steps[1].extract.tok.regex", 'missing ): "token":"(.*"'),
            ({"checks": [{"status": 200}, {"body_regex": "(a)\\1"}]},
             "$.scenarios[0].steps[1].checks[1].body_regex", "no backreferences"),
            ({"checks": [{"body_regex": "a(?=b)"}]},
             "$.scenarios[0].steps[1].checks[0].body_regex", "no lookahead"),
        ]
        served = f.served()
        runs = http("GET", f.rest + "/v1/runs")[1]["runs"]
        for step, path, message in cases:
            plan = {"target": f.target_url, "users": 1, "duration": "1s",
                    "scenarios": [{"steps": [{"path": "/"}, dict({"path": "/"}, **step)]}]}
            status, reply = http("POST", f.rest + "/v1/runs", json.dumps(plan))
            self.assertEqual(status, 400, reply)
            self.assertEqual(reply["error"]["path"], path, reply)
            self.assertIn(message, reply["error"]["message"])
            file = os.path.join(f.tmp, "bad.json")
            with open(file, "w") as out:
                json.dump(plan, out)
            r = f.loadctl("validate", file)
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertIn(path + ": bad regex", r.stdout + r.stderr)
            self.assertIn(message, r.stdout + r.stderr)
        self.assertEqual(http("GET", f.rest + "/v1/runs")[1]["runs"], runs)  # none added
        self.assertEqual(f.served(), served)


if __name__ == "__main__":
    unittest.main(verbosity=2)
