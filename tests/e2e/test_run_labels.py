"""End-to-end: run names and labels (issue 16 part 6). Runs started by
`loadctl start --name --label` carry them in GET /v1/runs and
GET /v1/runs/{id}; `?label=K=V&state=S` filters (every label, any state),
and so does `loadctl runs --label --state`, over real HTTP; a malformed
filter is a 400 naming the parameter. The names and labels survive a
coordinator restart (the stored summaries)."""

import json
import unittest
import urllib.parse

from fleet import Fleet, http


class RunLabels(unittest.TestCase):
    def ids(self, f, query):
        status, body = http("GET", f"{f.rest}/v1/runs?{query}")
        self.assertEqual(status, 200, body)
        return [r["id"] for r in body["runs"]]

    def start(self, f, *args):
        out = f.loadctl("start", "--target", f.target_url + "/", "--users", "2",
                        "--duration", "1s", "--json", *args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def test_runs_carry_name_and_labels_and_filter_by_them(self):
        with Fleet(workers=1) as f:
            nightly = self.start(f, "--name", "nightly", "--label", "branch=main",
                                 "--label", "commit=abc")
            a = json.loads(nightly.stdout)["id"]
            b = json.loads(self.start(f, "--name", "feature", "--label", "branch=dev").stdout)["id"]
            # A third on main, stopped while it runs.
            out = f.loadctl("start", "--target", f.target_url + "/", "--users", "1",
                            "--duration", "30s", "--label", "branch=main", "--detach")
            self.assertEqual(out.returncode, 0, out.stderr)
            c = out.stdout.split()[-1]
            self.assertEqual(f.loadctl("stop", c).returncode, 0)
            f.wait_final(c, 10)

            run = f.run(a)
            self.assertEqual((run["name"], run["labels"]),
                             ("nightly", {"branch": "main", "commit": "abc"}))
            self.assertEqual(self.ids(f, "label=branch=main&state=finished"), [a])
            self.assertEqual(self.ids(f, "label=branch=main"), [c, a])
            self.assertEqual(self.ids(f, "label=branch=main&label=commit=abc"), [a])
            self.assertEqual(self.ids(f, "label=branch%3Dmain,commit%3Dabc"), [a])
            self.assertEqual(self.ids(f, "state=finished&state=stopped"), [c, b, a])
            self.assertEqual(self.ids(f, "state=stopped"), [c])
            self.assertEqual(self.ids(f, "label=branch=none"), [])

            for query, path, message in [
                    ("label=branch", "label", 'query parameter label "branch": must be key=value'),
                    ("state=done", "state", 'query parameter state: "done" is not a run state'),
                    ("lable=branch=main", "lable", 'query parameter "lable": unknown')]:
                status, body = http("GET", f"{f.rest}/v1/runs?{query}")
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"]["path"], path)
                self.assertIn(message, body["error"]["message"])

            out = f.loadctl("runs", "--label", "branch=main", "--state", "finished")
            self.assertEqual(out.returncode, 0, out.stderr)
            lines = out.stdout.splitlines()
            self.assertTrue(lines[0].startswith("ID") and lines[0].endswith("LABELS"), lines)
            self.assertEqual(len(lines), 2, out.stdout)
            row = lines[1].split()
            self.assertEqual((row[0], row[1], row[2], row[-1]),
                             (a, "nightly", "finished", "branch=main,commit=abc"))
            bad = f.loadctl("runs", "--label", "branch")
            self.assertEqual(bad.returncode, 3, bad.stderr)
            self.assertIn('--label "branch": must be key=value', bad.stderr)
            bad = f.loadctl("runs", "--state", "done")
            self.assertEqual(bad.returncode, 3, bad.stderr)
            self.assertIn('"done" is not a run state', bad.stderr)

            # The stored summaries keep them across a restart.
            for run_id in (a, b, c):
                f.wait_stored_final(run_id)
            f.restart_coordinator()
            self.assertEqual(self.ids(f, "label=branch=main&state=finished"), [a])
            self.assertEqual(self.ids(f, "label=branch=main"), [c, a])
            status, body = http("GET", f"{f.rest}/v1/runs?" +
                                urllib.parse.urlencode({"label": "branch=dev"}))
            self.assertEqual([(r["name"], r["labels"]) for r in body["runs"]],
                             [("feature", {"branch": "dev"})])
            self.assertEqual(f.run(a)["labels"], {"branch": "main", "commit": "abc"})


if __name__ == "__main__":
    unittest.main()
