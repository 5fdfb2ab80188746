"""A plan's secrets never come back (issue 14, item 5).

A plan with distinctive secrets in tls.key, auth.bearer, auth.basic.password,
an Authorization header and env values runs briefly against `loadd target`.
Then every REST answer about the run (GET /v1/runs, /v1/runs/{id} with and
without ?since= and ?timeline=0, its /hlog, /metrics, /v1/workers), every
`loadctl report` format, `loadctl validate --json`, the run store's files and
the coordinator's and workers' logs are searched: no secret appears in any of
them (in any form the daemons could write: as given, JSON-escaped or
base64 as in the Basic header), "(redacted)" stands where each was, and a
public env value is shown. Report files are 0600 unless --mode says
otherwise. The run store holds the plan redacted while the run is active and
after (docs/operations.md, "Secrets in plans"), also after a restart.
"""

import base64
import json
import os
import secrets
import stat
import time
import unittest

from fleet import Fleet, http

FINAL = ("finished", "stopped", "failed", "interrupted")
CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
REPORT_FORMATS = ("table", "json", "csv", "csv-history", "hlog", "junit", "html")


class Secrets:
    """Fresh, distinctive secret strings for one test."""

    def __init__(self):
        tag = secrets.token_hex(6)
        self.key = f"KEYSECRET{tag}"
        self.bearer = f"BEARERSECRET{tag}"
        self.password = f"BASICSECRET{tag}"
        self.header = f"HEADERSECRET{tag}"
        self.env = f"ENVSECRET{tag}"
        self.env_hidden = f"ENVHIDDEN{tag}"
        self.public = f"PUBLICVALUE{tag}"
        basic = base64.b64encode(f"alice:{self.password}".encode()).decode()
        # Every form a daemon could write: as given, and the Basic header.
        self.all = [self.key, self.bearer, self.password, self.header, self.env,
                    self.env_hidden, basic]

    def plan(self, target):
        return {
            "name": "secrets",
            "target": target,
            "users": 4,
            "duration": "2s",
            "env": {"TOKEN": self.env,
                    "HIDDEN": {"value": self.env_hidden, "public": False},
                    "REGION": {"value": self.public, "public": True}},
            "tls": {"cert": {"name": "client.pem", "content": CERT},
                    "key": {"name": "client.key",
                            "content": "-----BEGIN PRIVATE KEY-----\n" + self.key +
                                       "\n-----END PRIVATE KEY-----\n"}},
            "scenarios": [{"steps": [
                {"name": "bearer", "path": "/", "auth": {"bearer": self.bearer},
                 "headers": {"X-Token": "{{env.TOKEN}}", "X-Hidden": "{{env.HIDDEN}}",
                             "X-Region": "{{env.REGION}}"}},
                {"name": "basic", "path": "/",
                 "auth": {"basic": {"user": "alice", "password": self.password}}},
                {"name": "header", "path": "/",
                 "headers": {"Authorization": "Token " + self.header}},
            ]}],
        }


class SecretsNeverComeBack(unittest.TestCase):
    def assertNoSecret(self, where, text, s):
        for secret in s.all:
            self.assertNotIn(secret, text, f"a secret in {where}")

    def store_files(self, f, run_id):
        """{path: text} of the run's directory in the coordinator's store."""
        directory = os.path.join(f.state_dir, "runs", run_id)
        out = {}
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                with open(path, "rb") as fh:
                    out[path] = fh.read().decode(errors="replace")
        return out

    def stored_plan(self, f, run_id):
        """The plan in the run's `state` file: one record (length, CRC-32),
        whose payload is the bytes and records of `seconds` it covers (8
        bytes each), then the state's JSON (file_run_store.cc)."""
        with open(os.path.join(f.state_dir, "runs", run_id, "state"), "rb") as fh:
            return json.loads(fh.read()[8 + 16:])["plan"]

    def assertRedactedPlan(self, where, plan, s):
        self.assertEqual(plan["env"]["TOKEN"], "(redacted)", where)
        self.assertEqual(plan["env"]["HIDDEN"], "(redacted)", where)
        self.assertEqual(plan["env"]["REGION"], {"value": s.public, "public": True}, where)
        self.assertEqual(plan["tls"]["key"], {"name": "client.key", "content": "(redacted)"},
                         where)
        self.assertEqual(plan["tls"]["cert"]["content"], CERT, where)
        steps = plan["scenarios"][0]["steps"]
        self.assertEqual(steps[0]["auth"], {"bearer": "(redacted)"}, where)
        self.assertEqual(steps[0]["headers"]["X-Token"], "{{env.TOKEN}}", where)
        self.assertEqual(steps[1]["auth"],
                         {"basic": {"user": "alice", "password": "(redacted)"}}, where)
        self.assertEqual(steps[2]["headers"]["Authorization"], "(redacted)", where)

    def rest_answers(self, f, run_id):
        """{what: text} of every REST answer about the run."""
        answers = {}
        for path in ("/v1/runs", f"/v1/runs/{run_id}", f"/v1/runs/{run_id}?since=0",
                     f"/v1/runs/{run_id}?since=1", f"/v1/runs/{run_id}?timeline=0",
                     f"/v1/runs/{run_id}/hlog", "/metrics", "/v1/workers", "/healthz"):
            status, body = http("GET", f.rest + path)
            self.assertEqual(status, 200, f"{path}: {body}")
            answers[path] = body if isinstance(body, str) else json.dumps(body)
        return answers

    def test_no_secret_in_any_answer_report_store_or_log(self):
        s = Secrets()
        with Fleet(workers=2) as f:
            plan = s.plan(f.target_url)
            status, created = http("POST", f.rest + "/v1/runs", json.dumps(plan))
            self.assertEqual(status, 201, created)
            run_id = created["id"]

            # While the run is active: the answers and the store's copy.
            time.sleep(0.8)
            status, live = http("GET", f"{f.rest}/v1/runs/{run_id}")
            self.assertEqual(status, 200, live)
            self.assertIn(live["state"], ("starting", "running"), live)
            self.assertNoSecret("GET /v1/runs/{id} of the active run", json.dumps(live), s)
            self.assertRedactedPlan("the active run's JSON", live["plan"], s)
            for path, text in self.store_files(f, run_id).items():
                self.assertNoSecret(f"{path} while the run is active", text, s)
            self.assertRedactedPlan("the store's plan, run active",
                                    self.stored_plan(f, run_id), s)

            deadline = time.time() + 30
            while f.run(run_id)["state"] not in FINAL and time.time() < deadline:
                time.sleep(0.2)
            run = f.run(run_id)
            self.assertEqual(run["state"], "finished", run)
            self.assertGreater(run["totals"]["requests"], 0, run)
            self.assertRedactedPlan("GET /v1/runs/{id}", run["plan"], s)

            answers = self.rest_answers(f, run_id)
            for path, text in answers.items():
                self.assertNoSecret(f"GET {path}", text, s)
            self.assertIn(s.public, answers[f"/v1/runs/{run_id}"])

            # Every loadctl report format, as files (0600 by default) and on
            # stdout.
            reports = os.path.join(f.tmp, "reports")
            os.mkdir(reports)
            for fmt in REPORT_FORMATS:
                out = os.path.join(reports, "run." + fmt)
                r = f.loadctl("report", run_id, "--format", fmt, "--output", out)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNoSecret(f"loadctl report --format {fmt} (its output)",
                                    r.stdout + r.stderr, s)
                with open(out) as fh:
                    self.assertNoSecret(f"the {fmt} report file", fh.read(), s)
                self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600, fmt)
                r = f.loadctl("report", run_id, "--format", fmt)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNoSecret(f"loadctl report --format {fmt}", r.stdout + r.stderr, s)
            with open(os.path.join(reports, "run.json")) as fh:
                self.assertRedactedPlan("loadctl report --format json", json.load(fh)["plan"], s)
            with open(os.path.join(reports, "run.html")) as fh:
                html = fh.read()
            self.assertIn("(redacted)", html)
            self.assertIn(s.public, html)
            # --mode asks for another mode, and gets exactly that.
            wide = os.path.join(reports, "wide.csv")
            r = f.loadctl("report", run_id, "--format", "csv", "--output", wide, "--mode", "0644")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(stat.S_IMODE(os.stat(wide).st_mode), 0o644)
            r = f.loadctl("report", run_id, "--format", "csv", "--output", wide, "--mode", "999")
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertIn("--mode", r.stderr)

            # loadctl validate --json prints the plan redacted.
            plan_file = os.path.join(reports, "plan.json")
            with open(plan_file, "w") as fh:
                json.dump(plan, fh)
            r = f.loadctl("validate", "--json", plan_file)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNoSecret("loadctl validate --json", r.stdout + r.stderr, s)
            self.assertRedactedPlan("loadctl validate --json", json.loads(r.stdout), s)

            # The report's plan posted back is refused at the first redacted
            # secret, not run with "(redacted)" as a password.
            status, body = http("POST", f.rest + "/v1/runs", json.dumps(run["plan"]))
            self.assertEqual(status, 400, body)
            self.assertIn("(redacted)", body["error"]["message"])
            self.assertTrue(body["error"]["path"].startswith("$."), body)

            # The store after the run: the plan redacted, as documented.
            for path, text in self.store_files(f, run_id).items():
                self.assertNoSecret(f"{path} after the run", text, s)
            self.assertRedactedPlan("the store's plan, run ended",
                                    self.stored_plan(f, run_id), s)

            # A restarted coordinator serves the same redacted run.
            f.restart_coordinator()
            status, again = http("GET", f"{f.rest}/v1/runs/{run_id}")
            self.assertEqual(status, 200, again)
            self.assertNoSecret("GET /v1/runs/{id} after a restart", json.dumps(again), s)
            self.assertRedactedPlan("the run after a restart", again["plan"], s)

            # Logs: the coordinator's (both starts) and the workers'.
            names = [n for n in os.listdir(f.tmp)
                     if n.endswith(".log") and n.startswith(("coordinator", "worker"))]
            self.assertGreaterEqual(len(names), 4, names)
            for name in names:
                self.assertNoSecret(name, f.log(name[:-len(".log")]), s)


if __name__ == "__main__":
    unittest.main(verbosity=2)
