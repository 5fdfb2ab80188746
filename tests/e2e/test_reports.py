"""Reports read by other tools: the HdrHistogram interval log of a run,
decoded by an independent implementation (hdr-histogram-js from npm), gives
the run's own p50, p99 and max."""

import json
import os
import shutil
import subprocess
import unittest

from fleet import Fleet, http

JS_DIR = os.path.join(os.path.dirname(__file__), "..", "js")


@unittest.skipUnless(os.path.isdir(os.path.join(JS_DIR, "node_modules", "hdr-histogram-js")),
                     "tests/js not installed: run scripts/install-deps.sh")
class IntervalLog(unittest.TestCase):
    def test_hlog_decodes_with_hdr_histogram_js(self):
        with Fleet(workers=2) as f:
            r = f.loadctl("start", "--users", "20", "--duration", "3s", "--target",
                          f.target_url + "/delay/2ms", "--json")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            run = json.loads(r.stdout)
            status, hlog = http("GET", f"{f.rest}/v1/runs/{run['id']}/hlog")
            self.assertEqual(status, 200, hlog)
            self.assertIn("Histogram log format version", hlog)
            js = subprocess.run(["node", "hlog_summary.js"], input=hlog, capture_output=True,
                                text=True, cwd=JS_DIR, timeout=60)
            self.assertEqual(js.returncode, 0, js.stderr)
            tags = json.loads(js.stdout)
            endpoint = run["endpoints"][0]
            self.assertEqual(len(tags), 1, tags)
            decoded = next(iter(tags.values()))
            self.assertEqual(decoded["count"], endpoint["requests"])
            self.assertEqual(decoded["p50"], endpoint["p50_us"])
            self.assertEqual(decoded["p99"], endpoint["p99_us"])
            self.assertEqual(decoded["max"], endpoint["max_us"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
