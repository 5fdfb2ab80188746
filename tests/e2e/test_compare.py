"""Run comparison (issue 17, docs/compare.md): runs against a target that
answers after 20 ms, 20 ms and 22 ms; GET /v1/compare and loadctl compare
call 20 vs 20 no_change and 20 vs 22 slower at p50 and p95, and runs of
different plans or load carry a warning naming the difference."""

import json
import unittest

from fleet import Fleet, http

USERS = 100
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
        cls.fleet = Fleet(workers=2).__enter__()
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
                self.assertEqual(m["verdict"], "slower", json.dumps(result, indent=1))
                self.assertLess(m["p_value"], 0.01)
                self.assertGreater(m["change_pct"], 5)
                self.assertGreater(m["candidate_us"], m["base_us"])
        self.assertEqual(result["endpoints"][0]["name"], "api")

    def test_other_plan_and_load_are_named(self):
        f = self.fleet
        d = run(f, plan(f, 20, name="other", users=50))
        result = compare(f, self.a, d)
        messages = [w["kind"] + ": " + w["message"] for w in result["warnings"]]
        self.assertIn('plan: different plans: base "compare", candidate "other"', messages)
        self.assertIn("load: different user counts: base 100, candidate 50", messages)

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
