"""A fake loadd coordinator for loadctl's tests: the REST API of
docs/rest-api.md over plain HTTP on 127.0.0.1, with scripted runs.

A run is "running" for RUNNING_POLLS polls of GET /v1/runs/{id}, then
"finished"; a plan named "fail" ends "failed"; POST .../stop makes it
"stopping" for STOPPING_POLLS polls, then "stopped". A plan with more than 5000 users is
rejected with a 400 naming $.users, as the real coordinator does for its
limits. live_workers() decides what /healthz and /v1/workers report. With a
token, every route but /healthz answers 401 to requests without it.

A plan whose expect_workers exceeds live_workers() is "waiting" for
WAITING_POLLS polls, then "failed" with the coordinator's message. An
open-model plan (arrival_rate) gets the open model's fields: service times,
totals.dropped, a CPU warning that grows with each poll, and a lost worker.

The plan's thresholds are evaluated against the fake's fixed statistics
(thresholds[], and thresholds_passed: null until the run ends); checks[]
reports the `checks` given to the constructor. A plan named "abort" ends
"stopped" as if its first threshold had aborted it. GET /v1/runs/{id}/hlog
answers HLOG as text/plain.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUNNING_POLLS = 2
STOPPING_POLLS = 2
WAITING_POLLS = 2
DROPPED = 7
MAX_USERS = 5000
HLOG = ("#[Histogram log format version 1.3]\n"
        "#[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]\n"
        "#[BaseTime: 1700000000.000 (seconds since epoch)]\n"
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
        "\"Interval_Compressed_Histogram\"\n"
        "Tag=GET_/delay/20ms,0.000,1.000,22.015,HISTFAAAACl4nJNpmSzMwMDAxAABzFCaEUzOmNZg/wEi\n")
# The fake's aggregated latencies (microseconds), as _stats reports them.
LATENCY_US = {"min": 20051, "mean": 20410.3, "p50": 20351, "p90": 20687, "p95": 20815,
              "p99": 21055, "p99.9": 21503, "max": 22015}
CONDITION = re.compile(r"^(<=|>=|<|>)\s*([0-9.]+)\s*(us|ms|s|%)?$")


def _error(code, message, path=""):
    body = {"error": {"code": code, "message": message}}
    if path:
        body["error"]["path"] = path
    return body


class FakeCoordinator:
    def __init__(self, live_workers=lambda: 2, checks=(), token=None):
        self.live_workers = live_workers
        self.token = token  # when set, every route but /healthz needs "Bearer <token>"
        self.refused = 0  # requests answered 401
        self.checks = [dict(c) for c in checks]  # [{"name", "passed", "failed"}]
        self.runs = []  # newest first
        self.requests = []  # "METHOD /path"
        self.times = []  # time.monotonic() of each request, same order
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()

    # --- the API -----------------------------------------------------------

    def handle(self, method, path, body):
        with self.lock:
            self.requests.append("%s %s" % (method, path))
            self.times.append(time.monotonic())
            route = path.split("?")[0].rstrip("/").split("/")[1:]
            if method == "GET" and route == ["healthz"]:
                return 200, {"status": "ok", "version": "0.1.0", "workers": self.live_workers()}
            if method == "GET" and route == ["v1", "workers"]:
                return 200, {"workers": self._workers()}
            if method == "GET" and route == ["v1", "runs"]:
                return 200, {"runs": [self._summary(r) for r in self.runs]}
            if method == "POST" and route == ["v1", "runs"]:
                return self._create(body)
            if len(route) == 3 and route[:2] == ["v1", "runs"] and method == "GET":
                return self._get(route[2], "timeline=0" not in path)
            if len(route) == 4 and route[:2] == ["v1", "runs"] and route[3] == "hlog":
                if self._find(route[2]) is None:
                    return 404, _error("not_found", "no run %s" % route[2])
                return 200, HLOG
            if len(route) == 4 and route[:2] == ["v1", "runs"] and route[3] == "stop":
                return self._stop(route[2])
            return 404, _error("not_found", "no route %s %s" % (method, path))

    def _workers(self):
        return [{"id": "fake/%d" % i, "host": "fake", "instance": i, "cpu": i, "state": "idle",
                 "users": 0, "cpu_percent": 1.5, "last_seen_ms": 300}
                for i in range(self.live_workers())]

    def _create(self, body):
        try:
            plan = json.loads(body)
        except ValueError as e:
            return 400, _error("invalid_argument", "invalid JSON: %s" % e, "$")
        users = plan.get("users")
        if isinstance(users, int) and users > MAX_USERS:
            return 400, _error("invalid_argument",
                               "must be between 1 and %d on this fleet, got %d" % (MAX_USERS, users),
                               "$.users")
        if any(r["state"] in ("running", "stopping") for r in self.runs):
            return 409, _error("failed_precondition", "a run is already active")
        expect = plan.get("expect_workers", 0)
        waiting = isinstance(expect, int) and expect > self.live_workers()
        run = {"id": "r1700000000-%04d" % (len(self.runs) + 1), "name": plan.get("name", ""),
               "plan": plan, "users": users, "state": "waiting" if waiting else "running",
               "polls": 0, "stopping_polls": 0, "waiting_polls": 0, "message": "",
               "end_reason": None, "aborted_by": None}
        self.runs.insert(0, run)
        created = {"id": run["id"], "state": run["state"], "workers": 0 if waiting else 2,
                   "users": users or 0}
        if "arrival_rate" in plan:
            created["arrival_rate"] = plan["arrival_rate"]
        return 201, created

    def _find(self, run_id):
        return next((r for r in self.runs if r["id"] == run_id), None)

    def _advance(self, run):
        if run["state"] == "waiting":
            run["waiting_polls"] += 1
            if run["waiting_polls"] > WAITING_POLLS:
                run["state"], run["end_reason"] = "failed", "no_workers"
                run["message"] = ("only %d of %d expected workers registered within %s; start "
                                  "more workers or lower expect_workers"
                                  % (self.live_workers(), run["plan"]["expect_workers"],
                                     run["plan"].get("expect_timeout", "1m")))
            return
        run["polls"] += 1
        if run["state"] == "stopping":
            run["stopping_polls"] += 1
            if run["stopping_polls"] > STOPPING_POLLS:
                run["state"], run["end_reason"] = "stopped", "stopped"
        elif run["state"] == "running" and run["polls"] > RUNNING_POLLS:
            if run["name"] == "fail":
                run["state"], run["message"] = "failed", "all workers lost"
                run["end_reason"] = "all_workers_lost"
            elif run["name"] == "abort":
                key, verdict = self._thresholds(run)[0]
                run["state"], run["end_reason"], run["aborted_by"] = (
                    "stopped", "aborted_by_threshold", key)
                # As the real one may: the silent workers after the abort.
                run["message"] = ("threshold %s %s failed (%s); run aborted; 1 worker(s) "
                                  "sent no final stats"
                                  % (key, verdict["condition"], verdict["message"]))
            else:
                run["state"], run["end_reason"] = "finished", "completed"

    def _get(self, run_id, timeline):
        run = self._find(run_id)
        if run is None:
            return 404, _error("not_found", "no run %s" % run_id)
        if not timeline:
            self._advance(run)
        return 200, self._full(run, timeline)

    def _stop(self, run_id):
        run = self._find(run_id)
        if run is None:
            return 404, _error("not_found", "no run %s" % run_id)
        if run["state"] not in ("waiting", "running", "starting"):
            return 409, _error("failed_precondition", "run %s already ended" % run_id)
        run["state"] = "stopping"
        return 200, {"id": run_id, "state": "stopping"}

    @staticmethod
    def _stats(name, requests):
        return {"name": name, "method": "GET", "requests": requests, "failures": 1,
                "rps": requests / 3.0, "min_us": 20051, "mean_us": 20410.3, "stddev_us": 180.2,
                "p50_us": 20351, "p90_us": 20687, "p95_us": 20815, "p99_us": 21055,
                "p999_us": 21503, "max_us": 22015, "errors": {"status": 1}}

    def _summary(self, run):
        return {"id": run["id"], "name": run["name"], "state": run["state"],
                "created_at": "2026-11-23T01:02:03Z", "users": run["users"], "duration_s": 3,
                "requests": 1000 * run["polls"], "failures": 1}

    def _full(self, run, timeline):
        requests = 1000 * run["polls"]
        out = dict(self._summary(run))
        out.update({
            "message": run["message"], "end_reason": run["end_reason"],
            "aborted_by": run["aborted_by"], "elapsed_s": float(run["polls"]), "duration_s": 3.0,
            "plan": run["plan"], "target_users": run["users"],
            "workers": [{"id": "fake/0", "host": "fake", "stripe": 0, "state": "running"},
                        {"id": "fake/1", "host": "fake", "stripe": 1, "state": "running"}],
            "totals": {"requests": requests, "failures": 1, "rps": requests / 3.0,
                       "errors": {"connect": 0, "timeout": 0, "status": 1}},
            "endpoints": [self._stats("GET /delay/20ms", requests)],
            "aggregated": self._stats("Aggregated", requests)})
        out["warnings"] = []
        final = run["state"] in ("finished", "stopped", "failed")
        verdicts = [v for _, v in self._thresholds(run)]
        out["thresholds"] = verdicts
        out["thresholds_passed"] = (all(v["passed"] for v in verdicts) and run["name"] != "abort"
                                    if final else None)
        out["checks"] = self.checks
        if "arrival_rate" in run["plan"]:
            self._open_model(run, out)
        if timeline:
            out["timeline"] = [{"t": t, "users": run["users"], "requests": 1000, "failures": 0,
                                "rps": 1000, "p50_us": 20351, "p95_us": 20815,
                                "p99_us": 21055, "max_us": 22015}
                               for t in range(run["polls"])]
        return out

    def _thresholds(self, run):
        """[(key, {"key", "condition", "actual", "passed", "message"})] for the plan's."""
        out = []
        for key, spec in run["plan"].get("thresholds", {}).items():
            condition = spec["condition"] if isinstance(spec, dict) else spec
            actual = self._metric(run, key)
            verdict = {"key": key, "condition": condition, "actual": actual, "passed": False,
                       "message": "no checks ran" if actual is None else ""}
            m = CONDITION.match(condition)
            if actual is not None and m:
                op, number, unit = m.group(1), float(m.group(2)), m.group(3)
                limit = number * {"us": 1, "ms": 1e3, "s": 1e6, "%": 0.01}.get(unit, 1)
                verdict["passed"] = {"<": actual < limit, "<=": actual <= limit,
                                     ">": actual > limit, ">=": actual >= limit}[op]
                verdict["message"] = "actual %s %s %s" % (
                    actual, "meets" if verdict["passed"] else "misses", condition)
            out.append((key, verdict))
        return out

    def _metric(self, run, key):
        metric = key.rsplit(".", 1)[-1]
        if key.endswith(".p99.9"):
            metric = "p99.9"
        if metric == "pass_rate":
            ran = sum(c["passed"] + c["failed"] for c in self.checks)
            return sum(c["passed"] for c in self.checks) / ran if ran else None
        if metric == "error_rate":
            return 1 / max(1, 1000 * run["polls"])
        if metric == "rps":
            return 1000 * run["polls"] / 3.0
        return LATENCY_US[metric]

    @staticmethod
    def _open_model(run, out):
        service = {"min_us": 900, "mean_us": 1500, "p50_us": 1200, "p90_us": 2000,
                   "p95_us": 2500, "p99_us": 5000, "p999_us": 9000, "max_us": 12000}
        for endpoint in out["endpoints"] + [out["aggregated"]]:
            endpoint["service"] = dict(service)
        out["totals"]["dropped"] = DROPPED
        out["workers"][1].update(state="lost", lost_at_s=1.5)
        if run["polls"] >= 1:  # one episode, growing: loadctl shows it once while polling
            out["warnings"] = [{"kind": "cpu", "worker": "fake/0", "from_s": 0,
                                "to_s": run["polls"], "max_cpu_percent": 97.0,
                                "message": "worker fake/0 used 97%% CPU from 0s to %ds"
                                           % run["polls"]}]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as loadctl polls on one connection

            def _serve(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                if (fake.token is not None and not self.path.startswith("/healthz") and
                        self.headers.get("Authorization") != "Bearer " + fake.token):
                    with fake.lock:
                        fake.refused += 1
                    status, reply = 401, _error("unauthenticated", "wrong bearer token")
                else:
                    status, reply = fake.handle(method, self.path, body)
                text = isinstance(reply, str)
                data = (reply if text else json.dumps(reply)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if text else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, *args):
                pass

        return Handler
