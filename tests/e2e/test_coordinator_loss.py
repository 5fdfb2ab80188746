"""End-to-end: losing the coordinator. kill -9 it mid-run and measure, at the
target, when load stops; restart it on the same state directory and check
what it kept: the run is `interrupted` with its seconds up to about the kill,
the workers come back, new runs work, and ended runs read the same as
before the restart."""

import json
import os
import re
import subprocess
import time
import unittest

from fleet import Fleet, binary, http, wait_until

GRACE_S = 3.0  # the workers' --coordinator-grace in this test (default 10s)
# Load may outlive the grace by a request in flight (5 ms here) and the
# worker's timer slack; 0.5 s covers that on a loaded 2-vCPU machine.
STOP_TOLERANCE_S = 0.5
# A run's seconds reach the coordinator once a second and are stored within
# ~0.3 s; the interrupted run must hold every second up to 1 s before the
# kill, give or take that storing delay.
DATA_TOLERANCE_S = 0.5

FORMATS = ("json", "hlog", "table", "csv", "csv-history", "junit")


def hlog_start(hlog):
    """The run's start (seconds since the epoch) from an interval log."""
    return float(re.search(r"#\[StartTime: ([0-9.]+)", hlog).group(1))


class CoordinatorLoss(unittest.TestCase):
    def wait_run_time(self, f, run_id, seconds, timeout=20):
        run = wait_until(lambda: (r := f.run(run_id))["state"] == "running"
                         and r["elapsed_s"] >= seconds and r, timeout)
        if not run:
            self.fail(f"run {run_id} did not reach {seconds}s of run time: {f.run(run_id)}")
        return run

    def wait_load_stopped(self, f, killed_at):
        """Polls the target until well past the grace; returns the wall-clock
        time of the last request it received."""
        while time.time() < killed_at + GRACE_S + STOP_TOLERANCE_S + 2:
            time.sleep(0.1)
        last_ms = http("GET", f.target_url + "/__stats")[1]["last_request_unix_ms"]
        self.assertGreater(last_ms, 0, "the target never saw a request")
        return last_ms / 1000

    def wait_target_quiet(self, f, quiet_s, timeout):
        """Waits until the target has seen no request for quiet_s; returns the
        wall-clock time of the last one."""
        def quiet_since():
            last_ms = http("GET", f.target_url + "/__stats")[1]["last_request_unix_ms"]
            return last_ms > 0 and time.time() - last_ms / 1000 >= quiet_s and last_ms / 1000
        last = wait_until(quiet_since, timeout, 0.1)
        if not last:
            self.fail(f"the target still got requests {timeout}s later")
        return last

    def reports(self, f, run_id):
        out = {}
        for fmt in FORMATS:
            r = f.loadctl("report", run_id, "--format", fmt)
            self.assertEqual(r.returncode, 0, f"{fmt}: {r.stdout}{r.stderr}")
            out[fmt] = r.stdout
        return out

    def test_default_grace_is_ten_seconds(self):
        r = subprocess.run([binary("loadd"), "worker", "--help"], capture_output=True,
                           text=True, timeout=10)
        self.assertRegex(r.stdout, r"--coordinator-grace[^\n]*10s")
        docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "operations.md")
        with open(docs) as f_docs:
            self.assertIn("--coordinator-grace 10s", f_docs.read())

    def test_killed_coordinator_stops_load_and_keeps_the_run(self):
        with Fleet(workers=2, worker_args=["--coordinator-grace", f"{GRACE_S:g}s"]) as f:
            r = f.loadctl("start", "--users", "20", "--duration", "60s", "--target",
                          f.target_url + "/delay/5ms", "--detach", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run_id = json.loads(r.stdout)["id"]
            self.wait_run_time(f, run_id, 3.6)
            run_start = hlog_start(http("GET", f"{f.rest}/v1/runs/{run_id}/hlog")[1])

            # (a) Load stops at the target within the grace of the kill.
            killed_at = f.kill_coordinator()
            last_request = self.wait_load_stopped(f, killed_at)
            served = f.served()
            stop_s = last_request - killed_at
            print(f"\nload stopped at the target {stop_s:.2f}s after the coordinator's "
                  f"kill -9 (grace {GRACE_S:g}s)")
            self.assertLessEqual(stop_s, GRACE_S + STOP_TOLERANCE_S)
            self.assertGreater(stop_s, GRACE_S - 1.5, "load stopped long before the grace")

            # (b) Restarted on the same state dir: the run is interrupted,
            # with its seconds up to about the kill.
            f.restart_coordinator()
            run = f.run(run_id)
            self.assertEqual(run["state"], "interrupted", run["message"])
            self.assertIn("coordinator stopped", run["message"])
            seconds = [s["t"] for s in run["timeline"]]
            self.assertEqual(seconds, list(range(len(seconds))), "a second is missing")
            kill_run_time = killed_at - run_start
            covered = seconds[-1] + 1
            lost = kill_run_time - covered
            print(f"kill -9 at {kill_run_time:.2f}s of run time; the stored timeline covers "
                  f"0-{covered}s: {lost:.2f}s of data lost")
            self.assertLessEqual(lost, 1.0 + DATA_TOLERANCE_S)
            totals = run["totals"]
            self.assertEqual(sum(s["requests"] for s in run["timeline"]), totals["requests"])
            self.assertEqual(run["aggregated"]["requests"], totals["requests"])
            self.assertGreater(totals["requests"], 0)
            self.assertLessEqual(totals["requests"], served)
            self.assertEqual(totals["failures"], 0)
            reports = self.reports(f, run_id)
            self.assertIn("interrupted", reports["table"])
            self.assertEqual(json.loads(reports["json"])["state"], "interrupted")
            runs = http("GET", f.rest + "/v1/runs")[1]["runs"]
            self.assertEqual([(r["id"], r["state"]) for r in runs], [(run_id, "interrupted")])
            r = f.loadctl("runs")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("interrupted", r.stdout)

            # (c) The workers register again and a new run works, with a new id.
            f.wait_workers(2, timeout=15)
            before = f.served()
            r = f.loadctl("start", "--users", "10", "--duration", "2s", "--target",
                          f.target_url + "/delay/2ms", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            new_run = json.loads(r.stdout)
            self.assertEqual(new_run["state"], "finished")
            self.assertNotEqual(new_run["id"], run_id)
            self.assertEqual(new_run["totals"]["requests"], f.served() - before)
            self.assertEqual(sorted(w["users"] for w in new_run["workers"]), [5, 5])

    def test_quick_restart_ends_the_run_for_its_watcher_and_workers(self):
        # The coordinator is back before the workers' grace (10 s) runs out: they
        # still carry the run, and the new coordinator tells them to stop. A
        # `loadctl start` watching the run rides over the restart (it retries
        # failed polls), sees the run interrupted and exits 2.
        with Fleet(workers=2) as f:
            watcher = subprocess.Popen(
                [binary("loadctl"), "start", "--users", "10", "--duration", "60s", "--target",
                 f.target_url + "/delay/2ms", "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=f.tmp,
                env=dict(f.env, LOADD_COORDINATOR=f.rest))
            try:
                runs = wait_until(lambda: http("GET", f.rest + "/v1/runs")[1]["runs"], 20, 0.1)
                self.assertTrue(runs, "loadctl start created no run")
                self.wait_run_time(f, runs[0]["id"], 1.5)
                f.restart_coordinator()
                restarted_at = time.time()
                out, err = watcher.communicate(timeout=30)
            finally:
                if watcher.poll() is None:
                    watcher.kill()
                    watcher.communicate()
            self.assertEqual(watcher.returncode, 2, out + err)
            self.assertEqual(json.loads(out)["state"], "interrupted")
            # Load stops at the target once the workers are back on the bus (their
            # reconnect backoff may take a second or two), long before their grace.
            last = self.wait_target_quiet(f, quiet_s=1.5, timeout=12)
            stopped_after = last - restarted_at
            print(f"\nquick restart: load stopped {stopped_after:.2f}s after the coordinator "
                  "was back (grace 10s)")
            self.assertLess(stopped_after, 5.0)

    def test_ended_runs_read_the_same_after_a_restart(self):
        # (d) Every report format of a finished and of a stopped run, before
        # and after kill -9 and restart.
        with Fleet(workers=2) as f:
            r = f.loadctl("start", "--users", "10", "--duration", "2s", "--target",
                          f.target_url + "/delay/2ms", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            finished = json.loads(r.stdout)["id"]
            r = f.loadctl("start", "--users", "10", "--duration", "60s", "--target",
                          f.target_url + "/delay/2ms", "--detach", "--json")
            stopped = json.loads(r.stdout)["id"]
            self.wait_run_time(f, stopped, 1.5)
            self.assertEqual(f.loadctl("stop", stopped).returncode, 0)
            wait_until(lambda: f.run(stopped)["state"] == "stopped", 10, 0.1)
            before = {run_id: self.reports(f, run_id) for run_id in (finished, stopped)}
            listing = http("GET", f.rest + "/v1/runs")[1]
            f.wait_stored_final(stopped)
            f.restart_coordinator()
            for run_id in (finished, stopped):
                after = self.reports(f, run_id)
                for fmt in FORMATS:
                    self.assertEqual(after[fmt], before[run_id][fmt], f"{run_id} {fmt}")
            self.assertEqual(http("GET", f.rest + "/v1/runs")[1], listing)
            # The state directory holds them, private to the coordinator's user.
            self.assertEqual(os.stat(f.state_dir).st_mode & 0o777, 0o700)
            self.assertEqual(sorted(os.listdir(os.path.join(f.state_dir, "runs"))),
                             sorted([finished, stopped]))

            # A damaged run is skipped with a log line naming it; the rest load.
            seconds = os.path.join(f.state_dir, "runs", finished, "seconds")
            with open(seconds, "r+b") as damaged:
                damaged.seek(20)
                byte = damaged.read(1)
                damaged.seek(20)
                damaged.write(bytes([byte[0] ^ 0x20]))
            f.restart_coordinator()
            runs = http("GET", f.rest + "/v1/runs")[1]["runs"]
            self.assertEqual([r["id"] for r in runs], [stopped])
            self.assertIn(f"skipping stored run {os.path.dirname(seconds)}",
                          f.log(f"coordinator-{f.coordinator_starts}"))
            self.assertEqual(self.reports(f, stopped), before[stopped])


if __name__ == "__main__":
    unittest.main(verbosity=2)
