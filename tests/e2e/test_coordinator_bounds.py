"""End-to-end: what a damaged state directory can do to the coordinator is
bounded (issue 14, item 7): a FIFO, a device node and symbolic links in the
state directory are skipped with a warning naming each path, and the
coordinator serves within 2 s (a FIFO used to block its start in open() for
good). The data-file flood of item 6 is test_data_flood.py. Loopback only."""

import os
import time
import unittest

from fleet import SANITIZED, Fleet, http


class StateDirDamageTest(unittest.TestCase):
    def test_fifo_device_and_symlinks_are_skipped_and_the_coordinator_serves(self):
        with Fleet(workers=0) as f:
            f.kill_coordinator()
            runs = os.path.join(f.state_dir, "runs")
            damage = {}
            for run_id in ("r1-1", "r1-2", "r1-3"):
                os.makedirs(os.path.join(runs, run_id))
            fifo = os.path.join(runs, "r1-1", "state")
            os.mkfifo(fifo)
            damage["FIFO"] = fifo
            device = os.path.join(runs, "r1-2", "state")
            try:
                os.mknod(device, 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
                damage["character device"] = device
            except PermissionError:
                print("\nmknod not permitted here (not root): the device case is skipped")
            outside = os.path.join(f.tmp, "outside")
            with open(outside, "w") as out:
                out.write("not a run")
            link = os.path.join(runs, "r1-3", "state")
            os.symlink(outside, link)
            damage["symbolic link"] = link
            dir_link = os.path.join(runs, "r1-4")
            os.symlink(os.path.join(runs, "r1-3"), dir_link)
            damage["symbolic link, not a directory"] = dir_link

            t0 = time.monotonic()
            f.restart_coordinator(timeout=2 * (3 if SANITIZED else 1))
            took = time.monotonic() - t0
            print(f"\ncoordinator served {took * 1000:.0f} ms after its start")
            status, body = http("GET", f.rest + "/v1/runs")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["runs"], [])
            log = f.log("coordinator-2")
            for kind, path in damage.items():
                lines = [l for l in log.splitlines() if path in l and "skipping" in l]
                self.assertTrue(lines, f"no warning naming the {kind} {path}:\n{log}")
                self.assertIn(kind.split(",")[0], " ".join(lines))


if __name__ == "__main__":
    unittest.main()
