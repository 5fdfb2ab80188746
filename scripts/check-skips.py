#!/usr/bin/env python3
"""Reads ctest's JUnit output (ctest --output-junit FILE) after a run of
scripts/test.sh: lists every test that did not run (skipped, disabled) with
the reason its output gives, and fails when one of tests/must_run.txt is among
them or missing from the results.

    check-skips.py --stage plain|sanitize JUNIT_XML [MUST_RUN_TXT]

Exit 0 when every must-run test of the stage ran (passed or failed: failures
are ctest's to report), 1 otherwise.
"""

import argparse
import os
import sys
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = ("plain", "sanitize")


def read_must_run(path, stage):
    """{name: why} of the tests that must run in this stage."""
    must = {}
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line, _, why = raw.partition("#")
            fields = line.split()
            if not fields:
                continue
            if len(fields) > 2:
                raise ValueError(f"{path}:{n}: expected NAME [STAGES], got {line.strip()!r}")
            stages = fields[1].split(",") if len(fields) == 2 else list(STAGES)
            bad = [s for s in stages if s not in STAGES]
            if bad:
                raise ValueError(f"{path}:{n}: unknown stage {bad[0]!r} (one of {', '.join(STAGES)})")
            if stage in stages:
                must[fields[0]] = why.strip()
    return must


def skip_reasons(output):
    """The lines of a test's output that say why it skipped:
    tests/e2e/run_unittest.py's summary, or the last line."""
    lines = [l for l in output.splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if l.startswith("run_unittest: ") and "skipped" in l:
            return lines[i:i + 12]
    return lines[-1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=STAGES, required=True)
    ap.add_argument("junit")
    ap.add_argument("must_run", nargs="?", default=os.path.join(HERE, "..", "tests", "must_run.txt"))
    args = ap.parse_args()

    try:
        must = read_must_run(args.must_run, args.stage)
    except ValueError as e:
        print(f"check-skips: {e}")
        return 1
    statuses = {}
    not_run = []
    for case in ElementTree.parse(args.junit).getroot().iter("testcase"):
        name, status = case.get("name"), case.get("status")
        statuses[name] = status
        if status in ("notrun", "disabled"):
            out = case.findtext("system-out") or ""
            not_run.append(name)
            print(f"check-skips: {name}: {'skipped' if status == 'notrun' else status}")
            for line in skip_reasons(out):
                print(f"    {line}")

    bad = []
    for name, why in must.items():
        status = statuses.get(name)
        if status is None:
            bad.append(f"{name}: not in ctest's results (not registered?); needs: {why}")
        elif status in ("notrun", "disabled"):
            bad.append(f"{name}: {'skipped' if status == 'notrun' else status}; needs: {why}")
    if bad:
        print(f"check-skips: {len(bad)} test(s) of {os.path.relpath(args.must_run)} did not run "
              f"in the {args.stage} stage; on CI they must:")
        for b in bad:
            print(f"  {b}")
        return 1
    print(f"check-skips: {args.stage}: all {len(must)} must-run tests ran "
          f"({len(not_run)} other test(s) did not)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
