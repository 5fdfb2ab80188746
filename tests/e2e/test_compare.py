"""Run comparison (issue 17, docs/compare.md): runs against a target that
answers after 20 ms, 20 ms and 22 ms; GET /v1/compare and loadctl compare
call 20 vs 20 no_change and 20 vs 22 slower at p50 and p95, and runs of
different plans or load carry a warning naming the difference."""

import json
import sys
import unittest

from fleet import Fleet, http

try:
    from markdown_it import MarkdownIt
except ImportError:
    # Debian's python3-markdown-it when this interpreter is another one than
    # the system's (pyenv, venv).
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        MarkdownIt = None

USERS = 50
DURATION_S = 8


def plan(f, delay_ms, name="compare", users=USERS):
    # One request named alike in every run, so endpoints match by name.
    return {"name": name, "target": f.target_url, "users": users, "spawn_rate": users,
            "duration": f"{DURATION_S}s",
            "requests": [{"name": "api", "path": f"/delay/{delay_ms}ms"}]}


def run(f, p):
    status, body = http("POST", f.rest + "/v1/runs", json.dumps(p))
    if status != 201:
        raise AssertionError(f"POST /v1/runs: {status} {body}")
    final = f.wait_final(body["id"], DURATION_S + 30)
    if final["state"] != "finished":
        raise AssertionError(f"run {body['id']} ended {final['state']}: {final['message']}")
    return body["id"]


def compare(f, base, candidate, query=""):
    status, body = http("GET", f"{f.rest}/v1/compare?base={base}&candidate={candidate}{query}")
    if status != 200:
        raise AssertionError(f"GET /v1/compare: {status} {body}")
    return body


class Compare(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One worker and a real-time target: less noise of our own on a busy machine.
        cls.fleet = Fleet(workers=1, target_realtime=True).__enter__()
        f = cls.fleet
        try:
            cls.a = run(f, plan(f, 20))
            cls.b = run(f, plan(f, 20))
            cls.c = run(f, plan(f, 22))
        except BaseException:
            f.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.fleet.__exit__(None, None, None)

    def verdicts(self, result):
        groups = [result["aggregated"]] + result["endpoints"]
        return {(g["name"], key): m["verdict"] for g in groups for key, m in g.items()
                if isinstance(m, dict)}

    def test_same_delay_is_no_change(self):
        result = compare(self.fleet, self.a, self.b)
        self.assertEqual(result["base"], self.a)
        self.assertEqual(result["candidate"], self.b)
        changed = {k: v for k, v in self.verdicts(result).items() if v != "no_change"}
        self.assertEqual(changed, {}, json.dumps(result, indent=1))
        # The ramp second is left out: 7 steady seconds of 8.
        self.assertEqual(result["seconds"]["base"]["from_s"], 1)
        self.assertEqual([w["kind"] for w in result["warnings"]
                          if w["kind"] not in ("samples", "run")], [], result["warnings"])

    def test_two_ms_more_is_slower(self):
        result = compare(self.fleet, self.a, self.c)
        for group in (result["aggregated"], result["endpoints"][0]):
            for key in ("p50", "p95"):
                m = group[key]
                self.assertEqual(m["verdict"], "slower", (group["name"], key, m))
                self.assertLess(m["p_value"], 0.01)
                self.assertGreater(m["change_pct"], 5)
                self.assertGreater(m["candidate_us"], m["base_us"])
        self.assertEqual(result["endpoints"][0]["name"], "api")

    def test_other_plan_and_load_are_named(self):
        f = self.fleet
        d = run(f, plan(f, 20, name="other", users=25))
        result = compare(f, self.a, d)
        messages = [w["kind"] + ": " + w["message"] for w in result["warnings"]]
        self.assertIn('plan: different plans: base "compare", candidate "other"', messages)
        self.assertIn("load: different user counts: base 50, candidate 25", messages)

    def test_loadctl_compare(self):
        f = self.fleet
        r = f.loadctl("compare", self.a, self.c)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = [l.split() for l in r.stdout.splitlines()]
        self.assertIn(["Aggregated", "p50"], [l[:2] for l in lines if l[-1] == "slower"],
                      r.stdout)
        r = f.loadctl("compare", self.a, self.c, "--fail-on-worse")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        r = f.loadctl("compare", self.a, self.b, "--fail-on-worse", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["aggregated"]["p95"]["verdict"], "no_change")
        r = f.loadctl("compare", self.a, "nope")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("candidate", r.stderr)

    @unittest.skipIf(MarkdownIt is None, "python3-markdown-it not installed: run "
                     "scripts/install-deps.sh")
    def test_markdown_renders_as_a_table(self):
        r = self.fleet.loadctl("compare", self.a, self.c, "--format", "markdown")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        tokens = MarkdownIt("commonmark").enable("table").parse(r.stdout)
        types = [t.type for t in tokens]
        self.assertIn("table_open", types, r.stdout)
        cells, row = [], None
        for t in tokens:
            if t.type == "tr_open":
                row = []
            elif t.type == "inline" and row is not None:
                row.append(t.content)
            elif t.type == "tr_close":
                cells.append(row)
                row = None
        self.assertEqual(cells[0], ["Endpoint", "Metric", "Base", "Candidate", "Change", "p",
                                    "Verdict"])
        verdicts = {(c[0], c[1]): c[6] for c in cells[1:]}
        self.assertEqual(verdicts[("Aggregated", "p50")], "**slower**")
        self.assertEqual(verdicts[("api", "p95")], "**slower**")
        self.assertEqual(len(cells), 1 + 2 * 9, r.stdout)  # 9 metrics, 2 groups

    def test_bad_query_names_the_parameter(self):
        f = self.fleet
        status, body = http("GET", f"{f.rest}/v1/compare?base={self.a}")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["path"], "candidate")
        status, body = http("GET", f"{f.rest}/v1/compare?base={self.a}&candidate=r1-x")
        self.assertEqual(status, 404, body)
        self.assertEqual(body["error"]["path"], "candidate")
        status, body = http("GET",
                            f"{f.rest}/v1/compare?base={self.a}&candidate={self.b}&min_change=x")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["path"], "min_change")


if __name__ == "__main__":
    unittest.main()
