"""The comparison statistics (common/compare/compare_stats.h) against an
independent computation on samples expanded from the same histograms:
scipy.stats.mannwhitneyu for the rank test, numpy's inverted-CDF percentile
for HdrHistogram's percentile rule, and a block bootstrap written here in
numpy (its own generator) for the bootstrap p-values. Needs python3-scipy
(scripts/install-deps.sh) and the built compare_tool."""

import json
import math
import subprocess
import sys
import unittest

from fleet import binary

try:
    import numpy as np
    from scipy import stats
except ImportError:
    # Debian's python3-scipy when this interpreter is another one than the
    # system's (pyenv, venv) of the same version.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import numpy as np
        from scipy import stats
    except ImportError:
        np = stats = None

PERCENTILES = [50, 90, 95, 99]


def synthetic(rng, seconds, per_second, center_us, drift=0.02):
    """Seconds of (value, count) buckets: values rounded to 10 us (ties)."""
    out = []
    for _ in range(seconds):
        c = center_us * (1 + rng.uniform(-drift, drift))
        values = np.round(rng.gamma(20, c / 20, per_second) / 10) * 10
        v, n = np.unique(values.astype(np.int64), return_counts=True)
        out.append({"requests": int(per_second), "failures": int(rng.integers(0, 3)),
                    "buckets": [[int(a), int(b)] for a, b in zip(v, n)]})
    return out


def expand(second):
    return np.repeat([b[0] for b in second["buckets"]], [b[1] for b in second["buckets"]])


def run_tool(base, candidate, replicates=1000, seed=1):
    doc = {"base": base, "candidate": candidate, "percentiles": PERCENTILES,
           "replicates": replicates, "seed": seed}
    r = subprocess.run([binary("compare_tool")], input=json.dumps(doc), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


def hdr_percentile(values, p):
    # HdrHistogram: the ceil(p/100 * n)-th smallest value.
    return np.percentile(values, p, method="inverted_cdf")


def numpy_bootstrap(base, candidate, replicates, rng, block):
    """p-values of the log ratio of each percentile, as documented in
    docs/compare.md, computed from the expanded samples."""
    b = [expand(s) for s in base]
    c = [expand(s) for s in candidate]

    def measure(seconds, picked):
        values = np.concatenate([seconds[i] for i in picked])
        return np.array([hdr_percentile(values, p) for p in PERCENTILES])

    def blocks(n):
        picked = []
        while len(picked) < n:
            start = rng.integers(0, n)
            picked += [(start + j) % n for j in range(block)]
        return picked[:n]

    observed = np.log(measure(c, range(len(c))) / measure(b, range(len(b))))
    extreme = np.zeros(len(PERCENTILES))
    for _ in range(replicates):
        d = np.log(measure(c, blocks(len(c))) / measure(b, blocks(len(b))))
        extreme += np.abs(d - observed) >= np.abs(observed) - 1e-12
    return (1 + extreme) / (1 + replicates)


@unittest.skipIf(stats is None, "python3-scipy not installed: run scripts/install-deps.sh")
class CompareStats(unittest.TestCase):
    def test_percentiles_follow_hdr_histograms_rule(self):
        rng = np.random.default_rng(1)
        base, candidate = synthetic(rng, 10, 300, 20000), synthetic(rng, 10, 300, 22000)
        out = run_tool(base, candidate, replicates=10)
        for seconds, got in ((base, out["base_percentiles"]),
                             (candidate, out["candidate_percentiles"])):
            values = np.concatenate([expand(s) for s in seconds])
            self.assertEqual(got, [hdr_percentile(values, p) for p in PERCENTILES])

    def test_rank_test_matches_scipy(self):
        rng = np.random.default_rng(2)
        for shift in (1.0, 1.003, 1.02):
            base = synthetic(rng, 8, 400, 20000)
            candidate = synthetic(rng, 8, 400, 20000 * shift)
            out = run_tool(base, candidate, replicates=10)
            x = np.concatenate([expand(s) for s in candidate])
            y = np.concatenate([expand(s) for s in base])
            ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                                     use_continuity=True)
            self.assertTrue(math.isclose(out["mann_whitney_p"], ref.pvalue, rel_tol=1e-6,
                                         abs_tol=1e-12), (shift, out, ref))
            self.assertAlmostEqual(out["prob_greater"], ref.statistic / (len(x) * len(y)),
                                   places=9)

    def test_bootstrap_p_values_agree_with_numpy(self):
        rng = np.random.default_rng(3)
        # A small shift (p-values in the middle) and a large one (tiny p).
        for shift, tolerance in ((1.01, 0.08), (1.1, 0.01)):
            base = synthetic(rng, 15, 150, 20000, drift=0.03)
            candidate = synthetic(rng, 15, 150, 20000 * shift, drift=0.03)
            out = run_tool(base, candidate, replicates=2000)
            ref = numpy_bootstrap(base, candidate, 600, np.random.default_rng(4),
                                  out["block_s"])
            for mine, theirs in zip(out["bootstrap_p"][:len(PERCENTILES)], ref):
                self.assertLess(abs(mine - theirs), tolerance, (shift, out, list(ref)))


if __name__ == "__main__":
    unittest.main()
