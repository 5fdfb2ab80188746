"""GET /metrics read by Prometheus's own text-format parser
(prometheus_client.parser, Debian python3-prometheus-client): a run against
`loadd target` gives counters equal to the run's report, a latency histogram
whose count is the requests and whose buckets agree with the report's
percentiles, and fleet gauges that match GET /v1/workers."""

import json
import math
import os
import re
import sys
import time
import unittest
import urllib.request

from fleet import TOKEN, Fleet, http

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's python3-prometheus-client (pure Python) when this interpreter
    # is another one than the system's (pyenv, venv).
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                         "grafana-dashboard.json")


def scrape(rest):
    """(Content-Type, {(sample name, frozenset(labels)): value}, families)."""
    req = urllib.request.Request(rest + "/metrics",
                                 headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=10) as resp:
        ctype, text = resp.headers["Content-Type"], resp.read().decode()
    samples, families = {}, {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"series twice: {key}"
            samples[key] = s.value
    return ctype, samples, families


def value(samples, name, /, **labels):
    return samples[(name, frozenset(labels.items()))]


def buckets(samples, name, /, **labels):
    """[(le, cumulative count)] in the order of le, +Inf last."""
    out = []
    for (n, ls), v in samples.items():
        d = dict(ls)
        le = d.pop("le", None)
        if n == name + "_bucket" and d == labels:
            out.append((float(le), v))
    return sorted(out)


@unittest.skipIf(text_string_to_metric_families is None,
                 "python3-prometheus-client missing: run scripts/install-deps.sh")
class Metrics(unittest.TestCase):
    def check_histogram(self, samples, name, report, **labels):
        """Buckets cumulative, +Inf == _count == requests, and each bucket
        agrees with the report's p50/p99: the percentile is <= le exactly
        when the bucket holds ceil(p * count) values."""
        b = buckets(samples, name, **labels)
        self.assertEqual(len(b), 19, b)
        self.assertTrue(math.isinf(b[-1][0]))
        counts = [c for _, c in b]
        self.assertEqual(counts, sorted(counts), f"{name} buckets not cumulative: {b}")
        count = value(samples, name + "_count", **labels)
        self.assertEqual(counts[-1], count)
        self.assertEqual(count, report["requests"])
        mean_s = value(samples, name + "_sum", **labels) / count
        self.assertAlmostEqual(mean_s * 1e6, report["mean_us"], delta=report["mean_us"] * 0.01 + 1)
        for p, key in ((50, "p50_us"), (99, "p99_us")):
            rank = math.ceil(p / 100 * count)
            for le, c in b[:-1]:
                self.assertEqual(report[key] <= le * 1e6 + 1e-6, c >= rank,
                                 f"{name}{labels} le={le}: {c} of {count} values, "
                                 f"report {key}={report[key]}")

    def test_metrics_match_the_run_report(self):
        with Fleet(workers=2, host_ids=["hostA", "hostB"]) as f:
            status, text = http("GET", f.rest + "/metrics", token=None)
            self.assertEqual(status, 401, "/metrics needs the token like the rest of the API")

            ctype, samples, families = scrape(f.rest)
            self.assertTrue(ctype.startswith("text/plain"), ctype)
            self.assertIn("version=0.0.4", ctype)
            self.assertEqual(families["loadd_workers"], "gauge")
            for host in ("hostA", "hostB"):
                self.assertEqual(value(samples, "loadd_workers", host=host, state="idle"), 1)
            self.assertNotIn("loadd_run_info", families, "no run yet")

            plan = {"name": "metrics e2e", "target": f.target_url, "users": 8,
                    "spawn_rate": 100, "duration": "3s",
                    "requests": [
                        {"name": "fast", "path": "/delay/1ms", "weight": 3},
                        {"name": 'slow "503"', "path": "/delay/3ms?status=503", "weight": 1}]}
            status, created = http("POST", f.rest + "/v1/runs", json.dumps(plan))
            self.assertEqual(status, 201, created)
            run_id = created["id"]

            # While it runs: the run is active and both workers are busy.
            deadline = time.time() + 10
            while time.time() < deadline:
                _, samples, _ = scrape(f.rest)
                if samples.get(("loadd_run_requests_total", frozenset({("run", run_id)})), 0):
                    break
                time.sleep(0.2)
            self.assertEqual(value(samples, "loadd_run_active", run=run_id), 1)
            self.assertEqual(value(samples, "loadd_workers", host="hostA", state="busy"), 1)

            report = f.wait_final(run_id, 30)
            self.assertEqual(report["state"], "finished", report.get("message"))

            _, samples, families = scrape(f.rest)
            totals = report["totals"]
            self.assertGreater(totals["requests"], 100)
            self.assertGreater(totals["failures"], 0)
            self.assertEqual(families["loadd_run_requests"], "counter")
            self.assertEqual(families["loadd_run_latency_seconds"], "histogram")
            self.assertEqual(value(samples, "loadd_run_info", run=run_id, name="metrics e2e",
                                   state="finished"), 1)
            self.assertEqual(value(samples, "loadd_run_active", run=run_id), 0)
            self.assertEqual(value(samples, "loadd_runs", state="finished"), 1)
            self.assertEqual(value(samples, "loadd_run_thresholds_passed", run=run_id), 1)
            self.assertEqual(value(samples, "loadd_run_requests_total", run=run_id),
                             totals["requests"])
            self.assertEqual(value(samples, "loadd_run_failures_total", run=run_id),
                             totals["failures"])
            self.assertEqual(value(samples, "loadd_run_dropped_total", run=run_id),
                             totals["dropped"])
            for kind, n in totals["errors"].items():
                self.assertEqual(value(samples, "loadd_run_errors_total", run=run_id, kind=kind),
                                 n, kind)
            self.assertAlmostEqual(value(samples, "loadd_run_rps", run=run_id), totals["rps"],
                                   delta=0.06)
            self.assertEqual(value(samples, "loadd_run_users", run=run_id), report["users"])
            self.assertEqual(value(samples, "loadd_run_target_users", run=run_id), 8)
            self.check_histogram(samples, "loadd_run_latency_seconds", report["aggregated"],
                                 run=run_id)

            self.assertEqual({e["name"] for e in report["endpoints"]}, {"fast", 'slow "503"'})
            for e in report["endpoints"]:
                name = e["name"]
                self.assertEqual(value(samples, "loadd_endpoint_requests_total", run=run_id,
                                       endpoint=name), e["requests"])
                self.assertEqual(value(samples, "loadd_endpoint_failures_total", run=run_id,
                                       endpoint=name), e["failures"])
                for kind, n in e["errors"].items():
                    self.assertEqual(value(samples, "loadd_endpoint_errors_total", run=run_id,
                                           endpoint=name, kind=kind), n)
                self.check_histogram(samples, "loadd_endpoint_latency_seconds", e,
                                     run=run_id, endpoint=name)
            slow = next(e for e in report["endpoints"] if e["name"] == 'slow "503"')
            self.assertEqual(slow["errors"].get("status"), slow["requests"])

            for host in ("hostA", "hostB"):
                self.assertEqual(value(samples, "loadd_workers", host=host, state="idle"), 1)
                self.assertEqual(value(samples, "loadd_workers", host=host, state="lost"), 0)

            # Every series docs/grafana-dashboard.json queries is exported.
            with open(DASHBOARD) as d:
                exprs = [t["expr"] for p in json.load(d)["panels"] for t in p.get("targets", [])]
            used = set(re.findall(r"\bloadd_[a-z_]+", " ".join(exprs)))
            exported = {n for n, _ in samples}
            self.assertTrue(used, "no loadd_ metric in the dashboard")
            self.assertEqual(used - exported, set(), "the dashboard queries unknown series")


if __name__ == "__main__":
    unittest.main(verbosity=2)
