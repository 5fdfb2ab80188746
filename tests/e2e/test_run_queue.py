"""End-to-end: the run queue and concurrent runs on parts of the fleet
(issue 16 parts 1 and 2). Runs on disjoint labelled workers go at the same
time while a whole-fleet run waits in the queue; a count is taken hosts
first and a lost worker's share stays in its run; queued runs survive a
coordinator restart in order; --no-queue and a full queue are refused with
their documented codes."""

import json
import signal
import subprocess
import time
import unittest

from fleet import ENDED, Fleet, binary, http, wait_until

EXIT_FLEET_BUSY = 5  # docs/loadctl.md


def post(f, plan):
    return http("POST", f.rest + "/v1/runs", json.dumps(plan))


def plan_for(f, status, duration="2s", users=4, **extra):
    """A closed-model plan on its own path: the target answers `status`, so
    its by_status counts what this run alone sent."""
    return dict({"target": f"{f.target_url}/delay/5ms?status={status}", "users": users,
                 "spawn_rate": 100, "duration": duration}, **extra)


def served_with(f, status):
    return http("GET", f.target_url + "/__stats")[1]["by_status"].get(str(status), 0)


def worker_ids(run):
    return {w["id"] for w in run["workers"]}


class RunQueue(unittest.TestCase):
    def test_two_pools_at_once_and_a_whole_fleet_run_queued(self):
        with Fleet(workers=0) as f:
            for i, (host, pool) in enumerate([("a1", "a"), ("a2", "a"), ("b1", "b"),
                                              ("b2", "b")]):
                f.add_worker(i, host_id=host, args=["--label", f"pool={pool}"])
            f.wait_workers(4)
            status_a, a = post(f, plan_for(f, 201, workers={"labels": {"pool": "a"}}))
            status_b, b = post(f, plan_for(f, 202, workers={"labels": {"pool": "b"}}))
            status_c, c = post(f, plan_for(f, 203, duration="1s"))
            self.assertEqual((status_a, status_b), (201, 201), (a, b))
            self.assertEqual(status_c, 202, c)
            self.assertEqual((c["state"], c["queue_position"]), ("queued", 1), c)
            listed = {r["id"]: r for r in http("GET", f.rest + "/v1/runs")[1]["runs"]}
            self.assertEqual(listed[c["id"]]["queue_position"], 1)
            # Both run at the same time, each on its own pool.
            both = wait_until(lambda: all(f.run(r["id"])["state"] == "running"
                                          for r in (a, b)), 5)
            self.assertTrue(both, (f.run(a["id"])["state"], f.run(b["id"])["state"]))
            self.assertEqual(worker_ids(f.run(a["id"])), {"a1/0", "a2/1"})
            self.assertEqual(worker_ids(f.run(b["id"])), {"b1/2", "b2/3"})
            # The whole-fleet run waits until both have ended.
            while True:
                states = [f.run(r["id"])["state"] for r in (a, b, c)]
                if states[2] != "queued":
                    self.assertTrue(states[0] in ENDED and states[1] in ENDED, states)
                    break
                time.sleep(0.05)
            ended = [f.wait_final(r["id"], 20) for r in (a, b, c)]
            self.assertEqual([r["state"] for r in ended], ["finished"] * 3)
            self.assertEqual(worker_ids(ended[2]), {"a1/0", "a2/1", "b1/2", "b2/3"})
            for run, status in zip(ended, (201, 202, 203)):
                self.assertGreater(run["totals"]["requests"], 0, run["id"])
                self.assertEqual(run["totals"]["requests"], served_with(f, status), run["id"])

    def test_a_count_takes_hosts_first_and_a_loss_stays_in_its_run(self):
        with Fleet(workers=4, host_ids=["h1", "h1", "h2", "h2"]) as f:
            status, run = post(f, plan_for(f, 200, duration="20s", users=8,
                                           workers={"count": 2}))
            self.assertEqual(status, 201, run)
            self.assertEqual(worker_ids(f.run(run["id"])), {"h1/0", "h2/2"})
            self.assertTrue(wait_until(lambda: f.run(run["id"])["users"] == 8, 5))
            f.workers[2].send_signal(signal.SIGKILL)  # h2/2
            lost = wait_until(lambda: any(w["state"] == "lost"
                                          for w in f.run(run["id"])["workers"]), 10)
            self.assertTrue(lost, f.run(run["id"]))
            # Its 4 users went to h1/0, the run's other worker, and no one else.
            self.assertTrue(wait_until(lambda: f.run(run["id"])["users"] == 8, 10),
                            f.run(run["id"]))
            view = f.run(run["id"])
            self.assertEqual(worker_ids(view), {"h1/0", "h2/2"})
            by_id = {w["id"]: w for w in view["workers"]}
            self.assertEqual(by_id["h1/0"]["users"], 8)
            idle = {w["id"]: w for w in http("GET", f.rest + "/v1/workers")[1]["workers"]}
            for wid in ("h1/1", "h2/3"):
                self.assertEqual((idle[wid]["state"], idle[wid]["users"]), ("idle", 0))
            self.assertEqual(http("POST", f"{f.rest}/v1/runs/{run['id']}/stop")[0], 200)
            f.wait_final(run["id"], 20)

    def test_queued_runs_survive_a_coordinator_restart_in_order(self):
        with Fleet(workers=1) as f:
            status, first = post(f, plan_for(f, 200, duration="30s"))
            self.assertEqual(status, 201, first)
            queued = []
            for i in range(3):
                status, run = post(f, plan_for(f, 201 + i, duration="1s", name=f"q{i}"))
                self.assertEqual((status, run.get("queue_position")), (202, i + 1), run)
                queued.append(run["id"])
            self.assertTrue(wait_until(lambda: f.stored_state(queued[-1]) == "queued", 5))
            f.restart_coordinator()
            listed = {r["id"]: r for r in http("GET", f.rest + "/v1/runs")[1]["runs"]}
            # In order (the first may have started already, if the worker was quick).
            still = [listed[q]["queue_position"] for q in queued if "queue_position" in listed[q]]
            self.assertGreaterEqual(len(still), 2, listed)
            self.assertEqual(still, list(range(1, len(still) + 1)), listed)
            # The worker comes back, is told to stop the interrupted run, and
            # the queue starts in order: each runs alone on it.
            f.wait_workers(1)
            starts = {}
            deadline = time.time() + 40
            while len(starts) < 3 and time.time() < deadline:
                for q in queued:
                    if q not in starts and f.run(q)["state"] != "queued":
                        starts[q] = time.time()
                time.sleep(0.05)
            self.assertEqual(sorted(starts, key=starts.get), queued)
            for i, q in enumerate(queued):
                run = f.wait_final(q, 20)
                self.assertEqual(run["state"], "finished", run)
                self.assertEqual(run["totals"]["requests"], served_with(f, 201 + i))
            self.assertEqual(f.run(first["id"])["state"], "interrupted")

    def test_no_queue_and_a_full_queue_are_refused(self):
        with Fleet(workers=1, coordinator_args=["--max-queued", "1"]) as f:
            status, busy = post(f, plan_for(f, 200, duration="30s"))
            self.assertEqual(status, 201, busy)
            status, refused = post(f, plan_for(f, 200, queue=False))
            self.assertEqual(status, 409, refused)
            self.assertEqual(refused["error"]["path"], "$.queue", refused)
            out = f.loadctl("start", "--no-queue", "--target", f.target_url, "--users", "1",
                            "--duration", "1s")
            self.assertEqual(out.returncode, EXIT_FLEET_BUSY, out.stderr)
            self.assertIn("busy", out.stderr)
            status, queued = post(f, plan_for(f, 200))
            self.assertEqual((status, queued["queue_position"]), (202, 1), queued)
            status, full = post(f, plan_for(f, 200))
            self.assertEqual(status, 429, full)
            self.assertIn("--max-queued 1", full["error"]["message"])
            out = f.loadctl("start", "--target", f.target_url, "--users", "1",
                            "--duration", "1s")
            self.assertEqual(out.returncode, EXIT_FLEET_BUSY, out.stderr)
            self.assertIn("--max-queued", out.stderr)
            # The stop call cancels a queued run: stopped, never started.
            status, cancelled = http("POST", f"{f.rest}/v1/runs/{queued['id']}/stop")
            self.assertEqual((status, cancelled["state"]), (200, "stopped"), cancelled)
            self.assertEqual(f.run(queued["id"])["end_reason"], "stopped")
            # loadctl start waits in the queue, showing its place, then runs.
            env = dict(f.env, LOADD_COORDINATOR=f.rest)
            waiting = subprocess.Popen(
                [binary("loadctl"), "start", "--no-color", "--target", f.target_url,
                 "--users", "1", "--duration", "1s"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env, cwd=f.tmp)
            listed = wait_until(lambda: [r for r in http("GET", f.rest + "/v1/runs")[1]["runs"]
                                         if r.get("queue_position") == 1], 5)
            self.assertTrue(listed)
            self.assertEqual(http("POST", f"{f.rest}/v1/runs/{busy['id']}/stop")[0], 200)
            out, err = waiting.communicate(timeout=30)
            self.assertEqual(waiting.returncode, 0, err)
            self.assertIn("position 1 in the run queue", out)
            self.assertIn("finished", out)


if __name__ == "__main__":
    unittest.main()
