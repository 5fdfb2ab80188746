"""End-to-end: named REST tokens with roles and caps, and the audit log
(issue 16 part 5), over real HTTP. A viewer may only read; a runner stops
only its own runs, an admin any; a token's cap is refused naming it; every
start, stop and refused attempt is one line of the state directory's
audit.log; SIGHUP loads a token that `loadd token add` appended; a run's
started_by survives a coordinator restart."""

import hashlib
import json
import os
import secrets
import signal
import stat
import subprocess
import unittest

from fleet import Fleet, binary, http, wait_until


def token_line(name, role, secret, caps=""):
    return f"{name} {role} sha256:{hashlib.sha256(secret.encode()).hexdigest()} {caps}\n"


class Roles(unittest.TestCase):
    def setUp(self):
        self.secret = {name: secrets.token_hex(24) for name in ("boss", "ci-a", "ci-b",
                                                                "watch")}
        self.tokens = None

    def write_tokens(self, directory):
        path = os.path.join(directory, "tokens")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# name role hash caps\n")
            f.write(token_line("boss", "admin", self.secret["boss"]))
            f.write(token_line("ci-a", "runner", self.secret["ci-a"], "max-users=50"))
            f.write(token_line("ci-b", "runner", self.secret["ci-b"], "max-runs=1"))
            f.write(token_line("watch", "viewer", self.secret["watch"]))
        return path

    def call(self, f, who, method, path, body=None):
        token = self.secret.get(who, who)
        return http(method, f.rest + path, body, token=token)

    def audit(self, f):
        with open(os.path.join(f.state_dir, "audit.log")) as log:
            return [json.loads(line) for line in log]

    def test_roles_caps_audit_and_reload(self):
        f = Fleet(workers=1)
        tokens = self.write_tokens(f.secrets)
        f.coordinator_args = ["--tokens-file", tokens]
        with f:
            plan = json.dumps({"target": f.target_url, "users": 2, "duration": "30s",
                               "graceful_stop": "0s"})
            # A viewer reads, but neither starts nor stops.
            status, reply = self.call(f, "watch", "POST", "/v1/runs", plan)
            self.assertEqual(status, 403, reply)
            self.assertIn('token "watch" has role viewer', reply["error"]["message"])
            status, reply = self.call(f, "watch", "POST", "/v1/runs/nope/stop", "{}")
            self.assertEqual(status, 403, reply)
            self.assertEqual(self.call(f, "watch", "GET", "/v1/runs")[0], 200)
            # A wrong token is 401.
            self.assertEqual(self.call(f, "not-a-token-0123456789", "GET", "/v1/runs")[0],
                             401)

            # A runner's run is its own: another runner cannot stop it, an admin can.
            status, run = self.call(f, "ci-a", "POST", "/v1/runs", plan)
            self.assertEqual(status, 201, run)
            run_id = run["id"]
            self.assertEqual(f.run(run_id)["started_by"], "ci-a")
            listed = [r for r in http("GET", f.rest + "/v1/runs")[1]["runs"]
                      if r["id"] == run_id]
            self.assertEqual(listed[0]["started_by"], "ci-a")
            status, reply = self.call(f, "ci-b", "POST", f"/v1/runs/{run_id}/stop", "{}")
            self.assertEqual(status, 403, reply)
            self.assertIn('started by token "ci-a"', reply["error"]["message"])
            self.assertNotIn(f.run(run_id)["state"], ("stopping", "stopped"))
            status, reply = self.call(f, "boss", "POST", f"/v1/runs/{run_id}/stop", "{}")
            self.assertEqual(status, 200, reply)
            f.wait_final(run_id, 15)

            # Caps: refused before anything starts, naming the cap.
            big = json.dumps({"target": f.target_url, "users": 100, "duration": "1s"})
            status, reply = self.call(f, "ci-a", "POST", "/v1/runs", big)
            self.assertEqual(status, 403, reply)
            self.assertIn("max-users=50", reply["error"]["message"])
            self.assertEqual(reply["error"]["path"], "$.users")
            status, run_b = self.call(f, "ci-b", "POST", "/v1/runs", plan)
            self.assertEqual(status, 201, run_b)
            status, reply = self.call(f, "ci-b", "POST", "/v1/runs", plan)
            self.assertEqual(status, 403, reply)
            self.assertIn("max-runs=1", reply["error"]["message"])
            status, reply = self.call(f, "ci-b", "POST", f"/v1/runs/{run_b['id']}/stop",
                                      "{}")
            self.assertEqual(status, 200, reply)
            f.wait_final(run_b["id"], 15)

            # `loadd token add` appends a line and prints the secret once;
            # the coordinator knows it only after SIGHUP.
            added = subprocess.run([binary("loadd"), "token", "add", "newbie", "--role",
                                    "viewer", "--file", tokens],
                                   capture_output=True, text=True, timeout=10)
            self.assertEqual(added.returncode, 0, added.stderr)
            self.secret["newbie"] = added.stdout.strip()
            with open(tokens) as t:
                self.assertNotIn(self.secret["newbie"], t.read())
            self.assertEqual(self.call(f, "newbie", "GET", "/v1/runs")[0], 401)
            f.coordinator.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(
                lambda: "--tokens-file: added newbie" in f.log("coordinator"), 10),
                f.log("coordinator"))
            self.assertEqual(self.call(f, "newbie", "GET", "/v1/runs")[0], 200)
            status, reply = self.call(f, "newbie", "POST", "/v1/runs", plan)
            self.assertEqual(status, 403, reply)

            # One line per action, refused ones included, in order.
            lines = self.audit(f)
            got = [(e["token"], e["action"], e["run"], e["outcome"], e.get("code"))
                   for e in lines]
            expected = [
                ("watch", "start", "", "refused", 403),
                ("watch", "stop", "nope", "refused", 403),
                ("-", "read", "", "refused", 401),
                ("ci-a", "start", run_id, "ok", None),
                ("ci-b", "stop", run_id, "refused", 403),
                ("boss", "stop", run_id, "ok", None),
                ("ci-a", "start", "", "refused", 403),
                ("ci-b", "start", run_b["id"], "ok", None),
                ("ci-b", "start", "", "refused", 403),
                ("ci-b", "stop", run_b["id"], "ok", None),
                ("-", "read", "", "refused", 401),
                ("newbie", "start", "", "refused", 403),
            ]
            self.assertEqual(got, expected, json.dumps(lines, indent=1))
            self.assertIn("max-users", lines[6]["reason"])
            for e in lines:
                self.assertEqual(e["address"], "127.0.0.1")
                self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            mode = os.stat(os.path.join(f.state_dir, "audit.log")).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o600)

            # started_by is stored with the run: a restarted coordinator shows it.
            f.wait_stored_final(run_id)
            f.wait_stored_final(run_b["id"])
            f.restart_coordinator()
            self.assertEqual(f.run(run_id)["started_by"], "ci-a")
            self.assertEqual(f.run(run_b["id"])["started_by"], "ci-b")


if __name__ == "__main__":
    unittest.main()
