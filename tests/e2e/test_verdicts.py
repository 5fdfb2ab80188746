"""The CI verdict from data (issue 15): a run aborted by a failing threshold
while one of its two workers is frozen (SIGSTOP) ends with loadctl exit code
1 and end_reason aborted_by_threshold. The coordinator's message goes on to
name the silent or lost worker after "run aborted", which a verdict read from
the message's ending took for a plain stop (exit code 2)."""

import json
import os
import signal
import subprocess
import unittest

from fleet import Fleet, binary, http, wait_until

# A frozen worker is lost after 1 s (not the default 3 s): the test stays short.
COORDINATOR_ARGS = ["--heartbeat-timeout-ms", "1000"]
ABORT_DELAY_S = 2  # run time before the abort; the worker is frozen well before


class Verdicts(unittest.TestCase):
    def test_threshold_abort_with_a_stopped_worker_exits_1(self):
        with Fleet(workers=2, coordinator_args=COORDINATOR_ARGS) as f:
            plan = {"target": f.target_url + "/delay/20ms", "users": 10, "spawn_rate": 1000,
                    "duration": "30s",
                    "thresholds": {"http.p95": {"condition": "<1ms", "abort_on_fail": True,
                                                "delay": f"{ABORT_DELAY_S}s"}}}
            with open(os.path.join(f.tmp, "plan.json"), "w") as out:
                json.dump(plan, out)
            env = dict(f.env, LOADD_COORDINATOR=f.rest)
            ctl = subprocess.Popen([binary("loadctl"), "start", "plan.json"], cwd=f.tmp, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            victim = f.workers[1]
            try:
                run_id = wait_until(lambda: (runs := http("GET", f.rest + "/v1/runs")[1]["runs"])
                                    and runs[0]["state"] == "running" and runs[0]["id"], 10)
                self.assertTrue(run_id, "the run never started")
                victim.send_signal(signal.SIGSTOP)
                stdout, stderr = ctl.communicate(timeout=60)
            finally:
                victim.send_signal(signal.SIGCONT)
                if ctl.poll() is None:
                    ctl.kill()
                    ctl.wait()
            run = f.run(run_id)
            print(f"verdicts: state {run['state']}, end_reason {run['end_reason']}, "
                  f"message {run['message']!r}, loadctl exit {ctl.returncode}")
            self.assertEqual(run["state"], "stopped", run["message"])
            # The case of the bug: the message goes on after "run aborted".
            self.assertRegex(run["message"], r"^threshold http\.p95 <1ms failed .*; run aborted; "
                                             r"1 worker\(s\) (lost during the run|sent no final "
                                             r"stats)$")
            self.assertEqual(run["end_reason"], "aborted_by_threshold")
            self.assertEqual(run["aborted_by"], "http.p95")
            self.assertFalse(run["thresholds_passed"])
            stats = sorted(w["final_stats"] for w in run["workers"])
            self.assertIn(stats, (["lost", "received"], ["missing", "received"]), run["workers"])
            self.assertEqual(ctl.returncode, 1, stdout + stderr)
            self.assertIn(f"loadctl: run {run_id} failed thresholds: http.p95 <1ms (actual ",
                          stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
