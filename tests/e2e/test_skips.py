"""A skipped test is not a pass: tests/e2e/run_unittest.py's exit codes (what
ctest's SKIP_RETURN_CODE reads) and scripts/check-skips.py, which fails
scripts/test.sh when a test of tests/must_run.txt did not run."""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_unittest.py")
CHECK = os.path.join(HERE, "..", "..", "scripts", "check-skips.py")

MODULE = """
import os, unittest

class T(unittest.TestCase):
    def test_runs(self):
        pass

    def test_needs_root(self):
        if os.environ.get("SKIP_ONE"):
            self.skipTest("needs root")

    def test_may_fail(self):
        self.assertFalse(os.environ.get("FAIL_ONE"), "asked to fail")
"""

# What `ctest --output-junit` writes (CMake 3.25), cut to what matters.
JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="loadd" tests="4" failures="1" disabled="1" skipped="1">
  <testcase name="e2e_ran" status="run"><system-out>OK</system-out></testcase>
  <testcase name="e2e_link_cut" status="notrun">
    <skipped message="SKIP_RETURN_CODE=77"/>
    <system-out>OK (skipped=1)
run_unittest: 1 of 3 tests skipped (exit 77: ctest reports this test as skipped):
  test_link_cut.T.test_cut: cannot create a network namespace here
</system-out>
  </testcase>
  <testcase name="e2e_failed" status="fail"><failure message=""/></testcase>
  <testcase name="e2e_off" status="disabled"><system-out>Disabled</system-out></testcase>
</testsuite>
"""


class Runner(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        with open(os.path.join(self.dir.name, "test_sample.py"), "w") as f:
            f.write(MODULE)
        with open(os.path.join(self.dir.name, "test_nothing.py"), "w") as f:
            f.write("import unittest\n")

    def tearDown(self):
        self.dir.cleanup()

    def run_module(self, module, **env):
        return subprocess.run([sys.executable, RUNNER, module], cwd=self.dir.name,
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **env))

    def test_all_passed_is_0(self):
        r = self.run_module("test_sample")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Ran 3 tests", r.stderr)

    def test_one_skipped_is_77_with_the_reason(self):
        r = self.run_module("test_sample", SKIP_ONE="1")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn("run_unittest: 1 of 3 tests skipped", r.stderr)
        self.assertIn("test_sample.T.test_needs_root: needs root", r.stderr)

    def test_a_failure_beats_a_skip(self):
        r = self.run_module("test_sample", SKIP_ONE="1", FAIL_ONE="1")
        self.assertEqual(r.returncode, 1, r.stderr)

    def test_no_test_or_no_module_fails(self):
        self.assertEqual(self.run_module("test_nothing").returncode, 1)
        self.assertEqual(self.run_module("test_missing").returncode, 1)


class CheckSkips(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.junit = self.write("junit.xml", JUNIT)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def check(self, stage, must_run):
        must = self.write("must_run.txt", must_run)
        return subprocess.run([sys.executable, CHECK, "--stage", stage, self.junit, must],
                              capture_output=True, text=True, timeout=60)

    def test_must_run_tests_that_ran_pass_even_if_others_skipped(self):
        r = self.check("plain", "e2e_ran  # needs nothing\ne2e_failed\n")
        self.assertEqual(r.returncode, 0, r.stdout)
        # Every test that did not run is listed, with the runner's reasons.
        self.assertIn("check-skips: e2e_link_cut: skipped", r.stdout)
        self.assertIn("test_link_cut.T.test_cut: cannot create a network namespace", r.stdout)
        self.assertIn("check-skips: e2e_off: disabled", r.stdout)

    def test_a_skipped_must_run_test_fails_by_name(self):
        r = self.check("plain", "e2e_ran\ne2e_link_cut   # netns: root\n")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("e2e_link_cut: skipped; needs: netns: root", r.stdout)

    def test_disabled_or_missing_must_run_tests_fail(self):
        r = self.check("sanitize", "e2e_off\ne2e_never_registered\n")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("e2e_off: disabled", r.stdout)
        self.assertIn("e2e_never_registered: not in ctest's results", r.stdout)

    def test_stages(self):
        must = "e2e_link_cut plain  # a .deb of sanitizer binaries is no deployment\n"
        self.assertEqual(self.check("sanitize", must).returncode, 0)
        self.assertEqual(self.check("plain", must).returncode, 1)
        self.assertEqual(self.check("sanitize", "e2e_link_cut plain,sanitize\n").returncode, 1)

    def test_a_malformed_list_fails(self):
        r = self.check("plain", "e2e_ran plain extra\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("must_run.txt:1: expected NAME [STAGES]", r.stdout)
        r = self.check("plain", "e2e_ran nightly\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown stage 'nightly'", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
