"""The examples/ plans, each run on a fleet against `loadd target` through
the CI one-liner (loadctl start PLAN --out --junit), asserting per-step
counts and checks; and a failing threshold giving exit code 1 and a failing
JUnit case."""

import json
import os
import shutil
import unittest
import xml.etree.ElementTree as ET

from fleet import Fleet

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def run_example(f, name, *extra):
    out = os.path.join(f.tmp, name + ".report.json")
    junit = os.path.join(f.tmp, name + ".junit.xml")
    r = f.loadctl("start", os.path.join(EXAMPLES, name), "--target", f.target_url,
                  "--out", out, "--junit", junit, *extra, timeout=90)
    run = None
    if os.path.exists(out):
        with open(out) as fh:
            run = json.load(fh)
    return r, run, junit


def steps(run):
    return {e["name"]: e for e in run["endpoints"]}


def checks(run):
    return {c["name"]: c for c in run.get("checks", [])}


class Examples(unittest.TestCase):
    def test_crud_flow(self):
        with Fleet(workers=2) as f:
            r, run, junit = run_example(f, "crud.json", "--duration", "5s")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            s = steps(run)
            for name in ("login", "create", "/items/[id]", "delete"):
                self.assertGreater(s[name]["requests"], 20, name)
                self.assertEqual(s[name]["failures"], 0, s[name])
            # Each iteration runs the four steps in order: the counts stay in
            # step, less at most one unfinished iteration per user.
            self.assertLessEqual(s["login"]["requests"] - s["delete"]["requests"], 10)
            for name, c in checks(run).items():
                self.assertEqual(c["failed"], 0, name)
                self.assertGreater(c["passed"], 0, name)
            self.assertTrue(run["thresholds_passed"])
            self.assertEqual(run["totals"]["requests"], f.served())
            suite = ET.parse(junit).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            self.assertEqual(suite.get("failures"), "0")

    def test_weighted_browse_buy_mix(self):
        with Fleet(workers=2) as f:
            r, run, _ = run_example(f, "shop.json", "--duration", "5s")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            s = steps(run)
            # 40 users dealt 3:1 by weight: 30 browsers, 10 buyers; only
            # buyers reach the cart, and every checkout succeeds.
            self.assertGreater(s["/products"]["requests"], s["/checkout"]["requests"])
            self.assertGreater(s["/checkout"]["requests"], 20)
            self.assertEqual(s["/cart"]["failures"], 0)
            self.assertEqual(s["/checkout"]["failures"], 0)
            self.assertEqual(checks(run)["/checkout: status == 200"]["failed"], 0)

    def test_data_file_login_uses_each_row_once(self):
        # Shared rows over 4 workers: every row is used exactly once.
        with Fleet(workers=4) as f:
            r, run, _ = run_example(f, "data_login.json", "--duration", "3s")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            # users.csv has 12 rows; mallory's password is wrong.
            self.assertEqual(steps(run)["login"]["requests"], 12)
            login = checks(run)["login: status == 200"]
            self.assertEqual((login["passed"], login["failed"]), (11, 1))
            self.assertEqual(f.served(), 12)

    def test_failing_threshold_fails_the_pipeline(self):
        with Fleet(workers=1) as f:
            with open(os.path.join(EXAMPLES, "crud.json")) as fh:
                plan = json.load(fh)
            plan["thresholds"] = {"http.p95": "<1us", "checks.pass_rate": ">99%"}
            path = os.path.join(f.tmp, "strict.json")
            with open(path, "w") as fh:
                json.dump(plan, fh)
            junit = os.path.join(f.tmp, "junit.xml")
            r = f.loadctl("start", path, "--target", f.target_url, "--duration", "2s",
                          "--junit", junit, timeout=60)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            root = ET.parse(junit).getroot()
            failed = [tc.get("name") for tc in root.iter("testcase")
                      if tc.find("failure") is not None]
            self.assertTrue(any("http.p95" in n for n in failed), failed)
            self.assertFalse(any("checks.pass_rate" in n for n in failed), failed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
