#!/usr/bin/env python3
"""Runs Python unittest modules for ctest, so that a skip is not a pass.

    run_unittest.py MODULE [MODULE ...]

Like `python3 -m unittest -v MODULE` (modules are imported from the working
directory), but the exit code tells ctest three things, not two:

    0    every test ran and passed
    1    a test failed or errored, or no test ran at all
    77   none failed, but at least one was skipped (SKIP_RETURN_CODE 77 on
         every script test: ctest then reports the test as "Skipped", not
         "Passed")

Any skip makes the whole ctest test skipped, not only a skip of every test in
it: one module often holds a test that needs root or a browser beside tests
that run anywhere (test_worker_faults' link cut in a network namespace), and
a skipped link cut must not hide behind the passes of its neighbours. The
skipped tests and their reasons are listed at the end of the output.
scripts/test.sh then fails when a test of tests/must_run.txt was skipped.
"""

import os
import sys
import unittest

SKIP_RETURN_CODE = 77


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    # `python3 -m unittest` imports from the working directory; so do we.
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromNames(argv[1:])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun == 0:
        print("run_unittest: no test ran", file=sys.stderr)
        return 1
    if result.skipped:
        print(f"run_unittest: {len(result.skipped)} of {result.testsRun} tests skipped "
              f"(exit {SKIP_RETURN_CODE}: ctest reports this test as skipped):", file=sys.stderr)
        for test, reason in result.skipped:
            print(f"  {test.id()}: {reason}", file=sys.stderr)
        return SKIP_RETURN_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
