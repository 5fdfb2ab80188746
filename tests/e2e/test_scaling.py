"""End-to-end: live scaling of a running test (issue 16 part 4). A closed
run moves 100 -> 300 users at its spawn rate (100 users/s) and back down to
50; an open run moves 200/s -> 600/s. The fleet's active users and
arrivals follow the straight line the run's events describe, every second;
refusals change nothing. Real processes on loopback."""

import hashlib
import json
import math
import os
import secrets
import unittest

from fleet import Fleet, http, wait_until


def post_run(f, plan):
    status, body = http("POST", f.rest + "/v1/runs", json.dumps(plan))
    if status != 201:
        raise AssertionError(f"POST /v1/runs: {status} {body}")
    return body["id"]


def wait_run_time(f, run_id, seconds):
    """Waits until the run's elapsed time reaches `seconds`."""
    if not wait_until(lambda: f.run(run_id)["elapsed_s"] >= seconds, 30, 0.05):
        raise AssertionError(f"run {run_id} did not reach {seconds}s")


def profile(knots, events):
    """The run's load as knots [(t_s, value)] after its events, as
    LoadProfile::Retarget makes it: up to each event's at_ms unchanged, then
    a line to `to` at ramp_rate (0: a step), held to the end."""
    for e in events:
        at, end = e["at_ms"] / 1000, knots[-1][0]
        start = value_at(knots, at)
        kept = [k for k in knots if k[0] < at] + [(at, start)]
        if e["ramp_rate"] <= 0:
            kept += [(at, e["to"]), (end, e["to"])]
        else:
            reach = at + abs(e["to"] - start) / e["ramp_rate"]
            kept += [(reach, e["to"]), (end, e["to"])] if reach < end else \
                [(end, start + (e["to"] - start) * (end - at) / (reach - at))]
        knots = kept
    return knots


def value_at(knots, t):
    for (t0, v0), (t1, v1) in zip(knots, knots[1:]):
        if t <= t1:
            return v1 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return knots[-1][1]


def arrivals_by(knots, t):
    """Cumulative arrivals by run time t (the integral of the rate)."""
    total = 0.0
    for (t0, v0), (t1, v1) in zip(knots, knots[1:]):
        if t <= t0:
            break
        u = min(t, t1) - t0
        if t1 > t0:
            total += v0 * u + (v1 - v0) / (t1 - t0) * u * u / 2
    return total


class Scaling(unittest.TestCase):
    def test_closed_run_follows_the_line_up_and_down(self):
        with Fleet(workers=2, host_ids=["h1", "h2"]) as f:
            run_id = post_run(f, {"target": f.target_url + "/delay/50ms", "users": 100,
                                  "spawn_rate": 100, "duration": "10s",
                                  "graceful_stop": "0s"})
            wait_run_time(f, run_id, 1.6)
            cli = f.loadctl("scale", run_id, "--users", "300")
            self.assertEqual(cli.returncode, 0, cli.stderr)
            self.assertIn("users 100 -> 300 at 100/s", cli.stdout)
            wait_run_time(f, run_id, 5.0)
            status, reply = http("PATCH", f"{f.rest}/v1/runs/{run_id}",
                                 json.dumps({"users": 50}))
            self.assertEqual(status, 200, reply)
            self.assertEqual(reply["event"]["from"], 300)
            # A refusal changes nothing: the wrong model for this run.
            status, reply = http("PATCH", f"{f.rest}/v1/runs/{run_id}",
                                 json.dumps({"rate": 10}))
            self.assertEqual(status, 400, reply)
            self.assertEqual(reply["error"]["path"], "$.rate")
            run = f.wait_final(run_id, 30)
            self.assertEqual(run["state"], "finished", run["message"])
            events = run["events"]
            self.assertEqual([(e["unit"], e["from"], e["to"], e["ramp_rate"])
                              for e in events],
                             [("users", 100, 300, 100), ("users", 300, 50, 100)])
            knots = profile([(0, 0), (1, 100), (10, 100)], events)
            # The gauge of second t is sampled at run time t + 1.
            checked, worst = 0, 0
            for s in run["timeline"][:-1]:
                ideal = math.ceil(value_at(knots, s["t"] + 1) - 1e-9)
                worst = max(worst, abs(s["users"] - ideal))
                self.assertLessEqual(abs(s["users"] - ideal), 1 + 0.01 * ideal,
                                     f"second {s['t']}: {s['users']} users, ideal {ideal}")
                checked += 1
            self.assertGreaterEqual(checked, 8)
            print(f"closed: {checked} seconds checked, worst gap {worst} users")
            # Every request the target answered is counted; those in flight at
            # the end (graceful_stop 0s) are counted as interrupted, whether or
            # not the target had written its answer yet.
            totals = run["totals"]
            self.assertLessEqual(totals["requests"] - totals["errors"]["interrupted"],
                                 f.served())
            self.assertLessEqual(f.served(), totals["requests"])
            # Shares did not move; every worker got the new profile.
            for w in range(2):
                self.assertIn("scaled to 50", f.log(f"worker{w}"))

    def test_open_run_arrivals_follow_the_new_rate(self):
        with Fleet(workers=2) as f:
            run_id = post_run(f, {"target": f.target_url + "/", "arrival_rate": 200,
                                  "duration": "8s", "graceful_stop": "1s"})
            wait_run_time(f, run_id, 2.5)
            status, reply = http("PATCH", f"{f.rest}/v1/runs/{run_id}",
                                 json.dumps({"rate": 600}))
            self.assertEqual(status, 200, reply)
            run = f.wait_final(run_id, 30)
            self.assertEqual(run["state"], "finished", run["message"])
            knots = profile([(0, 200), (8, 200)], run["events"])
            self.assertEqual(run["events"][0]["ramp_rate"], 0)  # no ramp: a step
            checked, worst = 0, 0.0
            for s in run["timeline"][:-1]:
                ideal = arrivals_by(knots, s["t"] + 1) - arrivals_by(knots, s["t"])
                gap = abs(s["requests"] + s["dropped"] - ideal)
                worst = max(worst, gap / ideal)
                self.assertLessEqual(gap, 6 + 0.02 * ideal,
                                     f"second {s['t']}: {s['requests']} requests, "
                                     f"ideal {ideal:.0f}")
                checked += 1
            self.assertGreaterEqual(checked, 6)
            print(f"open: {checked} seconds checked, worst gap {worst:.1%}")
            # Exact: every arrival the new profile schedules, once.
            expected = math.floor(arrivals_by(knots, 8) + 1e-6)
            total = run["totals"]["requests"] + run["totals"]["dropped"]
            self.assertLessEqual(abs(total - expected), 2, (total, expected))
            self.assertEqual(run["totals"]["requests"], f.served())



class ScalingRoles(unittest.TestCase):
    """Over real HTTP: a viewer gets 403, a runner cannot scale another
    token's run but an admin can, the operator's limit and the token's cap
    are refused naming them; the audit log has one line per attempt."""

    def test_roles_limits_and_audit(self):
        secret = {name: secrets.token_hex(24) for name in ("boss", "ci-a", "ci-b", "eye")}
        f = Fleet(workers=1)
        path = os.path.join(f.secrets, "tokens")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            for name, role, caps in (("boss", "admin", ""), ("ci-a", "runner", "max-users=150"),
                                     ("ci-b", "runner", ""), ("eye", "viewer", "")):
                digest = hashlib.sha256(secret[name].encode()).hexdigest()
                out.write(f"{name} {role} sha256:{digest} {caps}\n")
        f.coordinator_args = ["--tokens-file", path, "--max-users", "200"]
        with f:
            def patch(who, body, run):
                return http("PATCH", f"{f.rest}/v1/runs/{run}", json.dumps(body),
                            token=secret[who])
            status, created = http("POST", f.rest + "/v1/runs", json.dumps(
                {"target": f.target_url + "/delay/20ms", "users": 10, "duration": "20s",
                 "graceful_stop": "0s"}), token=secret["ci-a"])
            self.assertEqual(status, 201, created)
            run = created["id"]
            status, reply = patch("eye", {"users": 20}, run)
            self.assertEqual(status, 403, reply)
            self.assertIn('token "eye" has role viewer', reply["error"]["message"])
            status, reply = patch("ci-b", {"users": 20}, run)
            self.assertEqual(status, 403, reply)
            self.assertIn('started by token "ci-a"', reply["error"]["message"])
            status, reply = patch("ci-a", {"users": 151}, run)
            self.assertEqual(status, 403, reply)
            self.assertIn("max-users=150", reply["error"]["message"])
            self.assertEqual(reply["error"]["path"], "$.users")
            status, reply = patch("boss", {"users": 201}, run)
            self.assertEqual(status, 403, reply)
            self.assertIn("--max-users", reply["error"]["message"])
            status, reply = patch("ci-a", {"users": -1}, run)
            self.assertEqual(status, 400, reply)
            self.assertEqual(reply["error"]["path"], "$.users")
            self.assertEqual(f.run(run)["events"], [], "a refusal changed the run")
            status, reply = patch("ci-a", {"users": 20}, run)
            self.assertEqual(status, 200, reply)
            status, reply = patch("boss", {"users": 5}, run)
            self.assertEqual(status, 200, reply)
            self.assertEqual([e["by"] for e in f.run(run)["events"]], ["ci-a", "boss"])
            http("POST", f"{f.rest}/v1/runs/{run}/stop", "{}", token=secret["boss"])
            with open(os.path.join(f.state_dir, "audit.log")) as log:
                scales = [json.loads(line) for line in log if '"scale"' in line]
            self.assertEqual([(a["token"], a["outcome"], a.get("code")) for a in scales],
                             [("eye", "refused", 403), ("ci-b", "refused", 403),
                              ("ci-a", "refused", 403), ("boss", "refused", 403),
                              ("ci-a", "refused", 400), ("ci-a", "ok", None),
                              ("boss", "ok", None)])
            # From the level its line is at when the change begins (still ramping).
            self.assertRegex(scales[5]["from"], r"^users \d+")
            self.assertEqual(scales[5]["to"], "users 20")
            self.assertEqual(scales[2]["to"], "users 151")


if __name__ == "__main__":
    unittest.main()
