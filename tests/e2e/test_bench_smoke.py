"""Smoke test of the peer benchmark harness (bench/peers.py): it runs end to end.

One second of wrk and one second of one loadd worker against nginx on
loopback; the test checks that the table has a row with figures for each,
not the figures themselves (timings are for bench/, on a quiet machine).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from fleet import binary

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "peers.py")


class BenchSmokeTest(unittest.TestCase):
    def test_peers_table_has_wrk_and_loadd_rows(self):
        for tool in ("wrk", "taskset"):
            if shutil.which(tool) is None:
                self.skipTest(f"{tool} is not installed (scripts/install-deps.sh)")
        if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
            self.skipTest("nginx is not installed (scripts/install-deps.sh)")
        if (os.cpu_count() or 1) < 2:
            self.skipTest("peers.py needs 2 cores")
        build = os.path.dirname(os.path.dirname(binary("loadd")))
        with tempfile.TemporaryDirectory() as tmp:
            out_json = os.path.join(tmp, "peers.json")
            proc = subprocess.run(
                [sys.executable, PEERS, "--build", build, "--tools", "wrk,loadd",
                 "--protocols", "http", "--duration", "1", "--repeat", "1",
                 "--json", out_json],
                capture_output=True, text=True, timeout=90)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out_json) as f:
                tables = json.load(f)["tables"]
        self.assertEqual([t["scheme"] for t in tables], ["http"])
        rows = {r["tool"]: r for r in tables[0]["rows"]}
        self.assertEqual(sorted(rows), ["loadd worker", "wrk -t1"], proc.stdout)
        for name, row in rows.items():
            self.assertNotIn("skipped", row, f"{name}: {proc.stdout}\n{proc.stderr}")
            self.assertGreater(row["rps"], 0, name)
            # CPU can round to 0 on a starved machine (loadd's is in clock ticks).
            self.assertGreaterEqual(row["us"], 0, name)
        if rows["wrk -t1"]["us"] > 0:
            self.assertAlmostEqual(rows["wrk -t1"]["ratio"], 1.0)
        self.assertIn("| loadd worker ", proc.stdout)


if __name__ == "__main__":
    unittest.main()
