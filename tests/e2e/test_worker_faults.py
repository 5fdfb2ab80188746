"""Worker faults end to end (issue 5): a worker killed (kill -9), hung
(SIGSTOP, then SIGCONT), stopped gracefully (SIGTERM) and cut off (its veth
downed in a network namespace) in the middle of a closed-model run of 60
users over 3 workers. The coordinator finds each within its heartbeat
timeout, the survivors carry all 60 users, a worker that comes back does not
run its old share on top of theirs, and the totals add up.

Measured figures are printed with a "faults:" prefix."""

import json
import os
import signal
import subprocess
import time
import unittest

from fleet import Fleet, binary, http, timed_wait_until

HEARTBEAT_TIMEOUT_MS = 1000
COORDINATOR_ARGS = ["--heartbeat-timeout-ms", str(HEARTBEAT_TIMEOUT_MS)]
GRACE_S = 2  # the workers' --coordinator-grace
STATS_INTERVAL_MS = 1000  # the workers' default --stats-interval
WORKER_ARGS = ["--coordinator-grace", f"{GRACE_S}s"]
HOSTS = ["a", "b", "c"]  # worker i is "HOSTS[i]/i"
USERS = 60
DELAY_MS = 20
VICTIM = 2
VICTIM_ID = f"{HOSTS[VICTIM]}/{VICTIM}"
POLL_S = 0.02  # how often the waits below poll: the times they print are figures


def post_run(f, duration_s):
    plan = {"target": f.target_url + f"/delay/{DELAY_MS}ms", "users": USERS,
            "spawn_rate": 300, "duration": f"{duration_s}s"}
    status, body = http("POST", f.rest + "/v1/runs", json.dumps(plan))
    if status != 201:
        raise AssertionError(f"POST /v1/runs: {status} {body}")
    return body["id"]


def run_worker(run, worker_id):
    """The latest entry of a worker in the run view."""
    entries = [w for w in run["workers"] if w["id"] == worker_id]
    return entries[-1] if entries else None


def fleet_worker(f, worker_id):
    """The coordinator's entry for a worker (GET /v1/workers), or None."""
    for w in http("GET", f.rest + "/v1/workers")[1]["workers"]:
        if w["id"] == worker_id:
            return w
    return None


def survivors_carry_all(f, run_id):
    """True once the live workers run all users (per the run view)."""
    run = f.run(run_id)
    live = [w for w in run["workers"] if w["id"] != VICTIM_ID]
    return (sum(w["users"] for w in live) == USERS and
            sum(w["users_now"] for w in live) == USERS)


class FaultChecks:
    """Steps shared by the tests below (a mixin for unittest.TestCase)."""

    def start(self, f, duration_s):
        """Starts the run; returns once all users run, a stats interval later."""
        run_id = post_run(f, duration_s)
        _, took = timed_wait_until(lambda: f.run(run_id)["users"] == USERS, 5, POLL_S)
        self.assertIsNotNone(took, f"never reached {USERS} users: {f.run(run_id)}")
        time.sleep(1)  # a full stats interval of steady load
        run = f.run(run_id)
        self.assertEqual(run_worker(run, VICTIM_ID)["users"], USERS // 3)
        return run_id

    def check_carried(self, f, run_id, fault_at, what):
        _, took = timed_wait_until(lambda: survivors_carry_all(f, run_id), 5, POLL_S)
        self.assertIsNotNone(took, f"{what}: the survivors never ran all {USERS} users: "
                             f"{f.run(run_id)['workers']}")
        print(f"faults: {what}: survivors carry all {USERS} users "
              f"{time.monotonic() - fault_at:.2f} s after the fault")
        return time.monotonic() - fault_at

    def wait_lost(self, f, run_id, fault_at, what):
        entry, _ = timed_wait_until(lambda: (w := run_worker(f.run(run_id), VICTIM_ID))
                                    and w["state"] == "lost" and w, 5, 0.01)
        detected = time.monotonic() - fault_at
        self.assertIsNotNone(entry, f"{what}: {VICTIM_ID} never marked lost")
        print(f"faults: {what}: {VICTIM_ID} marked lost after {detected * 1000:.0f} ms "
              f"(heartbeat timeout {HEARTBEAT_TIMEOUT_MS} ms)")
        # The timeout, one coordinator tick (100 ms) and slack for a busy CI box.
        self.assertLess(detected, HEARTBEAT_TIMEOUT_MS / 1000 + 0.6)
        return detected

    def wait_registered_again(self, f):
        """The victim's log shows a second registration (its hello follows
        its final stats)."""
        pattern = f"registered with the coordinator as {VICTIM_ID} "
        again, _ = timed_wait_until(lambda: f.log(f"worker{VICTIM}").count(pattern) == 2,
                                    3, POLL_S)
        self.assertIsNotNone(again, f.log(f"worker{VICTIM}"))
        self.assertIn(f"worker {VICTIM_ID} registered", f.log("coordinator").split(
            f"worker {VICTIM_ID} lost")[-1])


class WorkerFaults(FaultChecks, unittest.TestCase):
    def test_kill_9_loses_at_most_the_last_unreported_interval(self):
        with Fleet(workers=3, host_ids=HOSTS, coordinator_args=COORDINATOR_ARGS,
                   worker_args=WORKER_ARGS) as f:
            run_id = self.start(f, duration_s=7)
            # start() returns just after a stats message; kill in the middle
            # of the next interval, so there is something unreported to lose.
            time.sleep(0.5)
            f.workers[VICTIM].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            self.wait_lost(f, run_id, killed_at, "kill -9")
            self.check_carried(f, run_id, killed_at, "kill -9")
            run = f.wait_final(run_id, 20)
            self.assertEqual(run["state"], "finished", run["message"])
            self.assertIn("1 worker(s) lost", run["message"])
            victim = run_worker(run, VICTIM_ID)
            self.assertEqual((victim["state"], victim["users"]), ("lost", 0))
            self.assertEqual(sum(w["users"] for w in run["workers"]), USERS)
            # What the killed worker did since its last stats message dies with
            # it. Each of its 20 users has at most one request in flight and
            # completes at most one per 20 ms (the target's delay), so at most
            # 20 * (1000 / 20 + 1) completed unreported in one stats interval,
            # + 20 in flight = 1040. Nothing may be counted that the target
            # did not serve.
            served, reported = f.served(), run["totals"]["requests"]
            users = USERS // 3
            bound = users * (STATS_INTERVAL_MS // DELAY_MS + 1) + users
            print(f"faults: kill -9: target served {served}, run reports {reported}, "
                  f"lost {served - reported} (bound {bound})")
            self.assertLessEqual(reported, served)
            self.assertLessEqual(served - reported, bound)

    def test_sigstop_then_sigcont_does_not_add_load(self):
        with Fleet(workers=3, host_ids=HOSTS, coordinator_args=COORDINATOR_ARGS,
                   worker_args=WORKER_ARGS) as f:
            run_id = self.start(f, duration_s=9)
            victim = f.workers[VICTIM]
            victim.send_signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            try:
                self.wait_lost(f, run_id, stopped_at, "SIGSTOP")
                self.check_carried(f, run_id, stopped_at, "SIGSTOP")
                # Frozen well past the worker's limit (min(grace, timeout) = 1 s).
                time.sleep(max(0.0, 2.5 - (time.monotonic() - stopped_at)))
            finally:
                victim.send_signal(signal.SIGCONT)
            resumed_at = time.monotonic()
            # It stops its old share at once and registers again, idle.
            back, took = timed_wait_until(lambda: (w := fleet_worker(f, VICTIM_ID))
                                          and w["state"] == "idle" and w, 5, POLL_S)
            self.assertIsNotNone(back, f"{VICTIM_ID} not idle after SIGCONT: "
                                 f"{fleet_worker(f, VICTIM_ID)}")
            print(f"faults: SIGCONT: {VICTIM_ID} stopped its old share, idle after "
                  f"{took * 1000:.0f} ms")
            self.assertRegex(f.log(f"worker{VICTIM}"),
                             r"run \S+: no word from the coordinator for \d+ ms "
                             r"\(limit 1000 ms\); stopping load")
            self.wait_registered_again(f)
            # Never more than the plan's users in the run, before and after.
            while time.monotonic() - resumed_at < 2:
                run = f.run(run_id)
                self.assertLessEqual(run["users"], USERS, run["workers"])
                self.assertEqual(sum(w["users"] for w in run["workers"]), USERS)
                self.assertEqual(fleet_worker(f, VICTIM_ID)["users"], 0)
                time.sleep(0.1)
            run = f.wait_final(run_id, 20)
            self.assertEqual(run["state"], "finished", run["message"])
            self.assertEqual(run_worker(run, VICTIM_ID)["state"], "lost")
            # Its stats were late, not lost: every request is reported. Those
            # cut off when it stopped its share count as interrupted (the
            # target may or may not have served them).
            served, reported = f.served(), run["totals"]["requests"]
            interrupted = run["totals"]["errors"]["interrupted"]
            print(f"faults: SIGSTOP: target served {served}, run reports {reported} "
                  f"({interrupted} interrupted)")
            self.assertLessEqual(reported - interrupted, served)
            self.assertLessEqual(served, reported)
            # It started nothing new on waking: at most one request per user
            # of its old share (those in flight when it froze) was cut off.
            self.assertLessEqual(interrupted, USERS // 3)

    def test_sigterm_loses_nothing_and_moves_the_share_at_once(self):
        with Fleet(workers=3, host_ids=HOSTS, coordinator_args=COORDINATOR_ARGS,
                   worker_args=WORKER_ARGS) as f:
            run_id = self.start(f, duration_s=6)
            victim = f.workers[VICTIM]
            victim.send_signal(signal.SIGTERM)
            termed_at = time.monotonic()
            self.assertEqual(victim.wait(timeout=5), 0)
            exited = time.monotonic() - termed_at
            _, gone = timed_wait_until(lambda: fleet_worker(f, VICTIM_ID) is None, 2, 0.01)
            self.assertIsNotNone(gone, "the coordinator still lists the worker")
            gone = time.monotonic() - termed_at
            dealt, _ = timed_wait_until(lambda: sum(w["users"] for w in f.run(run_id)["workers"]
                                                    if w["id"] != VICTIM_ID) == USERS, 2, 0.01)
            self.assertIsNotNone(dealt, "its users were not dealt to the others")
            dealt = time.monotonic() - termed_at
            print(f"faults: SIGTERM: exit {exited * 1000:.0f} ms, removed from the fleet "
                  f"{gone * 1000:.0f} ms, share dealt out {dealt * 1000:.0f} ms")
            self.assertLess(dealt, 1.0)
            carried = self.check_carried(f, run_id, termed_at, "SIGTERM")
            # The heirs start the users 300 ms after the redeal and report
            # them with their next stats (1 s).
            self.assertLess(carried, 2.5)
            self.assertIn("goodbye", f.log(f"worker{VICTIM}"))
            run = f.wait_final(run_id, 20)
            self.assertEqual(run["state"], "finished", run["message"])
            self.assertNotIn("lost", run["message"])
            self.assertEqual(run_worker(run, VICTIM_ID)["state"], "done")
            # Final stats before goodbye: nothing lost, nothing cut off.
            self.assertEqual(run["totals"]["errors"]["interrupted"], 0)
            self.assertEqual(run["totals"]["requests"], f.served())

    def test_sigterm_of_an_idle_worker_says_goodbye(self):
        with Fleet(workers=1, host_ids=HOSTS, coordinator_args=COORDINATOR_ARGS) as f:
            f.workers[0].send_signal(signal.SIGTERM)
            self.assertEqual(f.workers[0].wait(timeout=3), 0)
            self.assertIn("goodbye sent", f.log("worker0"))
            _, took = timed_wait_until(lambda: fleet_worker(f, "a/0") is None, 1, POLL_S)
            self.assertIsNotNone(took, "the coordinator still lists the worker")
            self.assertIn("worker a/0 left", f.log("coordinator"))

    def test_sigterm_exit_is_bounded_without_a_coordinator(self):
        # Long timeouts, so only the SIGTERM ends the load here: requests in
        # flight (10 s each) get the 3 s drain, then are cut off; the
        # goodbye has nowhere to go; the worker still exits.
        with Fleet(workers=1, host_ids=HOSTS, worker_args=["--coordinator-grace", "10s"],
                   coordinator_args=["--heartbeat-timeout-ms", "10000"]) as f:
            plan = {"target": f.target_url + "/delay/10s", "users": 5, "spawn_rate": 100,
                    "duration": "30s"}
            status, body = http("POST", f.rest + "/v1/runs", json.dumps(plan))
            self.assertEqual(status, 201, body)
            time.sleep(1)
            f.coordinator.send_signal(signal.SIGKILL)
            f.coordinator.wait()
            f.workers[0].send_signal(signal.SIGTERM)
            termed_at = time.monotonic()
            self.assertEqual(f.workers[0].wait(timeout=8), 0)
            took = time.monotonic() - termed_at
            print(f"faults: SIGTERM without a coordinator, 10 s requests in flight: exit after "
                  f"{took * 1000:.0f} ms")
            self.assertGreater(took, 2.5, "requests in flight did not get their drain")
            self.assertLess(took, 5.0)
            log = f.log("worker0")
            self.assertIn("requests in flight get 3000 ms", log)
            self.assertIn("goodbye not sent (no coordinator)", log)


NETNS = f"loadd-faults-{os.getpid()}"
VETH_ROOT, VETH_NS = f"lfr{os.getpid() % 100000}", f"lfn{os.getpid() % 100000}"
ROOT_ADDR, NS_ADDR = "10.213.0.1", "10.213.0.2"


def ip(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=check)


def coordinator_help():
    return subprocess.run([binary("loadd"), "coordinator", "--help"], capture_output=True,
                          text=True, timeout=10).stdout


class LinkCut(FaultChecks, unittest.TestCase):
    """One worker in its own network namespace, linked to the root one by a
    veth pair (10.213.0.0/30). Target and bus listen on the root side's
    address, so every worker reaches them the same way."""

    def setUp(self):
        try:
            ip("netns", "add", NETNS)
        except FileNotFoundError:
            self.skipTest("no `ip` command (iproute2): scripts/install-deps.sh installs it")
        except subprocess.CalledProcessError as e:
            self.skipTest(f"cannot create a network namespace here (needs CAP_SYS_ADMIN): "
                          f"{e.stderr.strip()}")
        self.addCleanup(self.teardown_net)
        ip("link", "add", VETH_ROOT, "type", "veth", "peer", "name", VETH_NS)
        ip("link", "set", VETH_NS, "netns", NETNS)
        ip("addr", "add", f"{ROOT_ADDR}/30", "dev", VETH_ROOT)
        ip("link", "set", VETH_ROOT, "up")
        ip("addr", "add", f"{NS_ADDR}/30", "dev", VETH_NS, ns=NETNS)
        ip("link", "set", VETH_NS, "up", ns=NETNS)
        ip("link", "set", "lo", "up", ns=NETNS)

    @staticmethod
    def teardown_net():
        # Deleting the namespace deletes its end of the pair, and so the pair.
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", VETH_ROOT], capture_output=True, timeout=10)

    def test_cut_off_worker_stops_and_comes_back_idle(self):
        args = list(COORDINATOR_ARGS)
        if "--allow-host" in coordinator_help():
            args += ["--allow-host", ROOT_ADDR]
        with Fleet(workers=2, host_ids=HOSTS, coordinator_args=args, worker_args=WORKER_ARGS,
                   host=ROOT_ADDR) as f:
            f.add_worker(VICTIM, prefix=["ip", "netns", "exec", NETNS])
            f.wait_workers(3)
            run_id = self.start(f, duration_s=11)
            ip("link", "set", VETH_NS, "down", ns=NETNS)
            cut_at = time.monotonic()
            try:
                # Two clocks at once: the coordinator marking it lost, and the
                # cut-off worker stopping its load on its own (its log says
                # so; it cannot tell anyone else until the link is back).
                lost_s = stopped_s = None
                while time.monotonic() - cut_at < GRACE_S + 2:
                    now_s = time.monotonic() - cut_at
                    if lost_s is None and run_worker(f.run(run_id), VICTIM_ID)["state"] == "lost":
                        lost_s = now_s
                    if stopped_s is None and "stopping load" in f.log(f"worker{VICTIM}"):
                        stopped_s = now_s
                    if lost_s is not None and stopped_s is not None:
                        break
                    time.sleep(0.01)
                self.assertIsNotNone(lost_s, f"{VICTIM_ID} never marked lost")
                self.assertIsNotNone(stopped_s, f.log(f"worker{VICTIM}"))
                print(f"faults: veth down: {VICTIM_ID} marked lost after {lost_s * 1000:.0f} ms "
                      f"(heartbeat timeout {HEARTBEAT_TIMEOUT_MS} ms); it stopped its load "
                      f"{stopped_s * 1000:.0f} ms after the cut (--coordinator-grace "
                      f"{GRACE_S}s)")
                self.assertLess(lost_s, HEARTBEAT_TIMEOUT_MS / 1000 + 0.6)
                self.assertLess(stopped_s, GRACE_S + 0.5)
                self.check_carried(f, run_id, cut_at, "veth down")
                time.sleep(max(0.0, 3 - (time.monotonic() - cut_at)))
            finally:
                ip("link", "set", VETH_NS, "up", ns=NETNS, check=False)
            up_at = time.monotonic()
            back, took = timed_wait_until(lambda: (w := fleet_worker(f, VICTIM_ID))
                                          and w["state"] == "idle" and w, 10, POLL_S)
            self.assertIsNotNone(back, f"{VICTIM_ID} not back and idle: "
                                 f"{fleet_worker(f, VICTIM_ID)}")
            self.wait_registered_again(f)
            print(f"faults: veth up: {VICTIM_ID} back and idle {took * 1000:.0f} ms, "
                  f"registered again {(time.monotonic() - up_at) * 1000:.0f} ms after the "
                  f"link came back")
            # Back and idle: no share of the run, no users.
            while time.monotonic() - up_at < 1.5:
                run = f.run(run_id)
                self.assertLessEqual(run["users"], USERS)
                self.assertEqual(sum(w["users"] for w in run["workers"]), USERS)
                self.assertEqual(fleet_worker(f, VICTIM_ID)["users"], 0)
                time.sleep(0.1)
            run = f.wait_final(run_id, 20)
            self.assertEqual(run["state"], "finished", run["message"])
            served, reported = f.served(), run["totals"]["requests"]
            failures = run["totals"]["failures"]
            print(f"faults: veth: target served {served}, run reports {reported} "
                  f"({failures} failed: {run['totals']['errors']})")
            # Late, not lost: every success reached the target; what failed
            # (cut off in flight) may or may not have.
            self.assertLessEqual(reported - failures, served)
            self.assertLessEqual(served, reported)
            # Cut off, it started nothing new: only what was in flight (one
            # request per user of its share) failed.
            self.assertLessEqual(failures, USERS // 3)


if __name__ == "__main__":
    unittest.main()
