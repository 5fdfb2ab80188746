"""Plan-level HTTP options on a real fleet: cookies kept per user, TLS with a
private CA, a client certificate or no verification, and HTTP/2 (negotiated by
TLS ALPN). nginx-light serves TLS and HTTP/2 on
loopback with certificates made here by the openssl CLI.

Which engine ran each plan is read from the workers' logs ("engine: native
HTTP/1.1 (...)" or "engine: libcurl (...)"): https:// runs on the native
engine unless HTTP/2 is asked for, or offered (ALPN h2) with http_version
"auto"."""

import json
import os
import re
import shutil
import signal
import subprocess
import unittest

from fleet import Fleet, free_port, make_ca, make_cert, wait_port

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")

NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  ssl_certificate {tmp}/server.pem;
  ssl_certificate_key {tmp}/server.key;
  server {{
    listen 127.0.0.1:{tls} ssl http2;
    location / {{ return 200 "proto=$server_protocol\\n"; }}
  }}
  server {{
    listen 127.0.0.1:{mtls} ssl http2;
    ssl_client_certificate {tmp}/ca.pem;
    ssl_verify_client on;
    location / {{ return 200 "client=$ssl_client_s_dn\\n"; }}
  }}
  server {{
    listen 127.0.0.1:{h1} ssl;
    location / {{ return 200 "proto=$server_protocol\\n"; }}
  }}
}}
"""


def make_certs(d):
    """A private CA, a server certificate for 127.0.0.1 and localhost, and a
    client certificate, all signed by the CA."""
    make_ca(d, "ca", cn="loadd test CA")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    make_cert(d, "server", "localhost", ext=("-extfile", "san.ext"))
    make_cert(d, "client", "loadd-client")


class HttpOptions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fleet = Fleet(workers=2).__enter__()
        d = cls.fleet.tmp
        make_certs(d)
        cls.ports = {"tls": free_port(), "mtls": free_port(), "h1": free_port()}
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=d, **cls.ports))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        cls.nginx = subprocess.Popen([nginx, "-c", conf, "-e", d + "/nginx.err", "-g",
                                      "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for port in cls.ports.values():
            wait_port(port)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.send_signal(signal.SIGQUIT)
        cls.nginx.wait(timeout=10)
        cls.fleet.__exit__(None, None, None)

    def run_plan(self, name, plan):
        """Runs the plan; self.engines: the engines the workers chose for it."""
        f = self.fleet
        workers = [f"worker{i}" for i in range(f.n_workers)]
        before = {w: len(f.log(w)) for w in workers}
        path = os.path.join(f.tmp, name + ".json")
        out = os.path.join(f.tmp, name + ".report.json")
        with open(path, "w") as fh:
            json.dump(plan, fh)
        r = f.loadctl("start", path, "--out", out, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        self.engines = set()
        for w in workers:
            self.engines.update(re.findall(r"engine: (native|libcurl)", f.log(w)[before[w]:]))
        with open(out) as fh:
            return json.load(fh)

    def plan(self, url, check, **options):
        plan = {"users": 4, "spawn_rate": 100, "duration": "1s",
                "scenarios": [{"think_time": "20ms", "steps": [
                    {"name": "get", "url": url,
                     "checks": [{"status": 200}, {"body_contains": check}]}]}]}
        plan.update(options)
        return plan

    def outcome(self, run):
        """(responses with 200, failed requests, failed checks)."""
        get = {e["name"]: e for e in run["endpoints"]}["get"]
        failed_checks = sum(c["failed"] for c in run["checks"])
        return get["requests"] - get["failures"], get["failures"], failed_checks

    def test_cookies_are_kept_per_user(self):
        f = self.fleet
        out = os.path.join(f.tmp, "cookie.report.json")
        r = f.loadctl("start", os.path.join(EXAMPLES, "session_cookie.json"), "--target",
                      f.target_url, "--duration", "2s", "--out", out, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out) as fh:
            run = json.load(fh)
        checks = {c["name"]: c for c in run["checks"]}
        me = checks["/me: status == 200"]
        self.assertGreater(me["passed"], 20)
        self.assertEqual(me["failed"], 0)
        # Without cookies, /me has no session: every /me check fails.
        with open(os.path.join(EXAMPLES, "session_cookie.json")) as fh:
            plan = json.load(fh)
        plan.update({"target": f.target_url, "duration": "1s", "cookies": False})
        run = self.run_plan("nocookie", plan)
        me = {c["name"]: c for c in run["checks"]}["/me: status == 200"]
        self.assertGreater(me["failed"], 5)
        self.assertEqual(me["passed"], 0)

    def test_tls_with_the_plans_ca(self):
        url = f"https://localhost:{self.ports['tls']}/"
        ok, failed, bad_checks = self.outcome(
            self.run_plan("ca", self.plan(url, "proto=HTTP/2.0", tls={"ca": {"file": "ca.pem"}})))
        self.assertGreater(ok, 10)
        self.assertEqual((failed, bad_checks), (0, 0))
        self.assertEqual(self.engines, {"libcurl"}, "the target offers h2")

    def test_native_https_where_the_target_offers_only_http1(self):
        url = f"https://localhost:{self.ports['h1']}/"
        ok, failed, bad_checks = self.outcome(self.run_plan(
            "native", self.plan(url, "proto=HTTP/1.1", tls={"ca": {"file": "ca.pem"}})))
        self.assertGreater(ok, 10)
        self.assertEqual((failed, bad_checks), (0, 0))
        self.assertEqual(self.engines, {"native"})

    def test_tls_without_the_ca_fails_to_connect(self):
        for server, engine in (("tls", "libcurl"), ("h1", "native")):
            with self.subTest(engine=engine):
                url = f"https://localhost:{self.ports[server]}/"
                run = self.run_plan("noca-" + engine, self.plan(url, "proto="))
                ok, failed, _ = self.outcome(run)
                self.assertEqual(ok, 0)
                self.assertGreater(failed, 0)
                self.assertEqual(run["totals"]["errors"]["connect"], failed)
                self.assertEqual(self.engines, {engine})

    def test_tls_insecure(self):
        for server, engine in (("tls", "libcurl"), ("h1", "native")):
            with self.subTest(engine=engine):
                url = f"https://127.0.0.1:{self.ports[server]}/"
                ok, failed, bad_checks = self.outcome(self.run_plan(
                    "insecure-" + engine, self.plan(url, "proto=", tls={"insecure": True})))
                self.assertGreater(ok, 10)
                self.assertEqual((failed, bad_checks), (0, 0))
                self.assertEqual(self.engines, {engine})

    def test_client_certificate(self):
        url = f"https://localhost:{self.ports['mtls']}/"
        tls = {"ca": {"file": "ca.pem"}, "cert": {"file": "client.pem"},
               "key": {"file": "client.key"}}
        # http_version 1.1 keeps the h2 server on the native engine.
        for version, engine in (("auto", "libcurl"), ("1.1", "native")):
            with self.subTest(engine=engine):
                ok, failed, bad_checks = self.outcome(self.run_plan(
                    "mtls-" + engine, self.plan(url, "CN=loadd-client", tls=tls,
                                                http_version=version)))
                self.assertGreater(ok, 10)
                self.assertEqual((failed, bad_checks), (0, 0))
                self.assertEqual(self.engines, {engine})
                # Without the certificate nginx answers 400.
                run = self.run_plan("mtls-none-" + engine, self.plan(
                    url, "CN=", tls={"ca": {"file": "ca.pem"}}, http_version=version))
                get = {e["name"]: e for e in run["endpoints"]}["get"]
                self.assertGreater(get["requests"], 0)
                self.assertEqual(get["failures"], get["requests"])
                self.assertEqual(run["totals"]["errors"]["status"], get["requests"])

    def test_http_versions(self):
        url = f"https://localhost:{self.ports['tls']}/"
        tls = {"ca": {"file": "ca.pem"}}
        for version, proto, engine in (("auto", "HTTP/2.0", "libcurl"),
                                        ("2", "HTTP/2.0", "libcurl"),
                                        ("1.1", "HTTP/1.1", "native")):
            with self.subTest(version=version):
                ok, failed, bad = self.outcome(self.run_plan(
                    "v" + version, self.plan(url, "proto=" + proto, tls=tls,
                                             http_version=version)))
                self.assertGreater(ok, 10)
                self.assertEqual((failed, bad), (0, 0))
                self.assertEqual(self.engines, {engine})

    def test_http2_required_but_not_offered_counts_as_failure(self):
        # Over TLS with ALPN offering only http/1.1 (a server without h2):
        # each response comes in HTTP/1.1 and counts as a parse failure.
        url = f"https://localhost:{self.ports['h1']}/"
        run = self.run_plan("h2-refused", self.plan(url, "proto=", http_version="2",
                                                     tls={"ca": {"file": "ca.pem"}}))
        ok, failed, _ = self.outcome(run)
        self.assertEqual(ok, 0)
        self.assertGreater(failed, 0)
        self.assertEqual(run["totals"]["errors"]["parse"], failed)

    def test_cleartext_http2_is_refused_at_validation(self):
        plan = self.plan(self.fleet.target_url + "/", "ok", http_version="2")
        path = os.path.join(self.fleet.tmp, "h2c.json")
        with open(path, "w") as fh:
            json.dump(plan, fh)
        r = self.fleet.loadctl("validate", path)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("$.scenarios[0].steps[0]: is http://", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
