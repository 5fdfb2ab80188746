"""End-to-end: worker labels (issue 16 part 3). Two workers register with
different labels, one from --label flags and one from the `label` key of its
config file; GET /v1/workers and `loadctl workers` show each one's own. A
malformed --label stops the worker at once, naming the flag."""

import os
import subprocess
import unittest

from fleet import Fleet, binary, http


class WorkerLabels(unittest.TestCase):
    def test_each_worker_shows_its_own_labels(self):
        with Fleet(workers=0) as f:
            f.spawn("worker0", ["worker", "--coordinator", f.bus, "--instance", "0",
                                "--host-id", "hosta", "--label", "pool=a",
                                "--label", "rack=r1"])
            config = os.path.join(f.tmp, "worker1.conf")
            with open(config, "w") as c:
                c.write('label = ["pool=b", "git.branch=feature/x"]\n')
            f.spawn("worker1", ["worker", "--config", config, "--coordinator", f.bus,
                                "--instance", "1", "--host-id", "hostb"])
            f.wait_workers(2)
            status, body = http("GET", f.rest + "/v1/workers")
            self.assertEqual(status, 200)
            labels = {w["id"]: w["labels"] for w in body["workers"]}
            self.assertEqual(labels, {"hosta/0": {"pool": "a", "rack": "r1"},
                                      "hostb/1": {"pool": "b",
                                                  "git.branch": "feature/x"}})
            out = f.loadctl("workers")
            self.assertEqual(out.returncode, 0, out.stderr)
            rows = {line.split()[0]: line.split()[-1] for line in out.stdout.splitlines()[1:]}
            self.assertEqual(rows, {"hosta/0": "pool=a,rack=r1",
                                    "hostb/1": "git.branch=feature/x,pool=b"})

    def test_a_bad_label_stops_the_worker_naming_the_flag(self):
        p = subprocess.run([binary("loadd"), "worker", "--coordinator", "tcp://127.0.0.1:9",
                            "--label", "pool=e u"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--label (config key label) \"pool=e u\"", p.stderr)
        self.assertIn("not ' '", p.stderr)


if __name__ == "__main__":
    unittest.main()
