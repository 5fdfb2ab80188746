"""End-to-end: the coordinator's REST API obeys only its operator, and bad
input changes nothing. Bearer token, HTTPS (a self-signed certificate made
at test time with the openssl CLI), operator limits, SIGHUP reloads, and
malformed, oversized and stalled requests. After each bad input the API
still answers and a good run still works. No traffic leaves loopback: plans
aimed elsewhere (example.invalid, 192.0.2.0/24) are refused before any
worker sees them."""

import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from fleet import (EC_KEY, ENDED, SANITIZED, TOKEN, Fleet, binary, http, make_ca, make_cert,
                   openssl, wait_until, write_secret)

SLOW = 3 if SANITIZED else 1  # the ASan+UBSan build is several times slower


def plan(target, **fields):
    body = {"target": target, "users": 2, "duration": "500ms", "graceful_stop": "0s"}
    body.update(fields)
    return json.dumps(body)


def runs(f):
    return http("GET", f.rest + "/v1/runs")[1]["runs"]


def good_run(test, f, rest=None, call=http):
    """POSTs a small plan and waits until it finished with requests served."""
    rest = rest or f.rest
    status, reply = call("POST", rest + "/v1/runs", plan(f.target_url))
    test.assertEqual(status, 201, reply)
    run = {}

    def ended():
        run.update(call("GET", f"{rest}/v1/runs/{reply['id']}?timeline=0")[1])
        return run.get("state") in ENDED

    test.assertTrue(wait_until(ended, 20), run)
    test.assertEqual(run["state"], "finished", run)
    test.assertGreater(run["totals"]["requests"], 0)


def raw_request(port, data, wait=5.0):
    """Sends bytes on a fresh connection; returns (status line, body) of the
    first answer, read until its Content-Length."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return head.split(b"\r\n")[0].decode(), body.decode(errors="replace")


def signal_and_wait_reload(test, f):
    """SIGHUP the coordinator and wait for its reload to finish (either way)."""
    def done():
        log = f.log("coordinator")
        return log.count("SIGHUP: fleet key re-read") + log.count("SIGHUP: reload failed")

    before = done()
    f.coordinator.send_signal(signal.SIGHUP)
    test.assertTrue(wait_until(lambda: done() > before, 10), f.log("coordinator"))


class Token(unittest.TestCase):
    def test_only_the_token_opens_the_api(self):
        with Fleet(workers=1) as f:
            served = f.served()
            calls = [("GET", "/v1/runs", None), ("GET", "/v1/workers", None),
                     ("POST", "/v1/runs", plan(f.target_url)), ("GET", "/v1/runs/r1", None),
                     ("POST", "/v1/runs/r1/stop", ""), ("GET", "/no/such/path", None)]
            for token in (None, "wrong-" + TOKEN, TOKEN[:-1], TOKEN + "x", ""):
                for method, path, body in calls:
                    req = urllib.request.Request(f.rest + path, method=method,
                                                 data=body.encode() if body is not None else None)
                    if token is not None:
                        req.add_header("Authorization", "Bearer " + token)
                    with self.assertRaises(urllib.error.HTTPError) as caught:
                        urllib.request.urlopen(req, timeout=5)
                    e = caught.exception
                    self.assertEqual(e.code, 401, (token, method, path))
                    self.assertEqual(e.headers["WWW-Authenticate"], "Bearer")
                    error = json.loads(e.read())["error"]
                    self.assertEqual(error["code"], "unauthenticated")
                    self.assertIn("--token-file", error["message"])
            # Nothing happened: no run, no request at the target.
            self.assertEqual(runs(f), [])
            self.assertEqual(f.served(), served)
            # /healthz is open but says only that the coordinator is up.
            self.assertEqual(http("GET", f.rest + "/healthz", token=None), (200, {"status": "ok"}))
            status, health = http("GET", f.rest + "/healthz")
            self.assertEqual((status, health["workers"]), (200, 1))
            # Refusals are logged, rate-limited, without what was sent.
            log = f.log("coordinator")
            self.assertIn("REST: refused", log)
            self.assertLessEqual(log.count("REST: refused"), 2, log)
            self.assertNotIn("wrong-" + TOKEN, log)
            self.assertNotIn(TOKEN, log)
            # loadctl: no token is exit code 4 with what to do; the token works.
            env = dict(f.env, LOADD_COORDINATOR=f.rest)
            env.pop("LOADD_TOKEN_FILE")
            r = subprocess.run([binary("loadctl"), "runs"], capture_output=True, text=True,
                               env=env, timeout=30)
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("loadctl sent no token", r.stderr)
            r = subprocess.run([binary("loadctl"), "runs"], capture_output=True, text=True,
                               env=dict(env, LOADD_TOKEN=TOKEN), timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            good_run(self, f)

    def test_no_usable_token_file_no_coordinator(self):
        d = tempfile.mkdtemp(prefix="loadd-e2e-token-")
        readable = write_secret(d, "readable", secrets.token_hex(32))
        os.chmod(readable, 0o644)
        short = write_secret(d, "short", "abc")
        cases = [(os.path.join(d, "missing"), "loadd keygen >"),
                 (readable, f"chmod 600 {readable}"),
                 (short, "use at least 16")]
        key = write_secret(d, "fleet.key", secrets.token_hex(32))
        for path, expected in cases:
            env = dict(os.environ, LOADD_FLEET_KEY_FILE=key, LOADD_TOKEN_FILE=path)
            r = subprocess.run([binary("loadd"), "coordinator", "--rest", "127.0.0.1:0",
                                "--bus", "tcp://127.0.0.1:0", "--state-dir", d],
                               capture_output=True, text=True, timeout=10, env=env)
            self.assertNotEqual(r.returncode, 0, path)
            self.assertIn("--token-file", r.stderr)
            self.assertIn(expected, r.stderr)
            self.assertNotIn("coordinator up", r.stderr)


def make_certs(d):
    """cert.pem/key.pem: a self-signed certificate for 127.0.0.1; ca.pem and
    client.pem/client.key: a CA and a client certificate it signed."""
    openssl("req", "-x509", *EC_KEY, "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            cwd=d)
    make_ca(d, "ca", cn="loadd test client CA")
    make_cert(d, "client", "ci")


class HttpsFleet(Fleet):
    """A fleet whose REST API is HTTPS with the certificate of make_certs;
    with client_ca, REST clients must show a certificate that CA signed."""

    def __init__(self, cert_dir, client_ca=False, **kw):
        super().__init__(**kw)
        self.cert_dir = cert_dir
        self.client_ca = client_ca
        self.context = ssl.create_default_context(cafile=self.file("cert.pem"))
        if client_ca:
            self.context.load_cert_chain(self.file("client.pem"), self.file("client.key"))

    def file(self, name):
        return os.path.join(self.cert_dir, name)

    def start_coordinator(self):
        self.coordinator_args = ["--rest-tls-cert", self.file("cert.pem"),
                                 "--rest-tls-key", self.file("key.pem")]
        if self.client_ca:
            self.coordinator_args += ["--rest-tls-ca", self.file("ca.pem")]
        self.rest = f"https://127.0.0.1:{self.rest_port}"
        return super().start_coordinator()

    def https(self, method, url, body=None):
        req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                                     headers={"Authorization": "Bearer " + TOKEN})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def wait_workers(self, n, timeout=10):
        def ready():
            try:
                return self.https("GET", self.rest + "/healthz")[1]["workers"] >= n
            except OSError:
                return False
        if not wait_until(ready, timeout):
            raise RuntimeError(f"fewer than {n} workers registered within {timeout}s")


class Https(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="loadd-e2e-tls-")
        make_certs(cls.certs)

    def test_rest_over_https_with_loadctl_cacert(self):
        with HttpsFleet(self.certs, workers=1) as f:
            good_run(self, f, call=f.https)
            cacert = f.file("cert.pem")
            r = f.loadctl("--cacert", cacert, "start", "--users", "2", "--duration", "500ms",
                          "--target", f.target_url)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            env = dict(f.env, LOADD_COORDINATOR=f.rest, LOADD_CACERT=cacert)
            r = subprocess.run([binary("loadctl"), "runs"], capture_output=True, text=True,
                               env=env, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("finished", r.stdout)
            # Without the CA, loadctl refuses the certificate and says what to do.
            r = f.loadctl("runs")
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("--cacert", r.stderr)
            # Plain HTTP on the HTTPS port gets nowhere, and HTTPS still works.
            with self.assertRaises(Exception):
                http("GET", f"http://127.0.0.1:{f.rest_port}/healthz", timeout=3)
            self.assertEqual(f.https("GET", f.rest + "/healthz")[0], 200)

    def test_client_certificates_with_rest_tls_ca(self):
        with HttpsFleet(self.certs, client_ca=True, workers=1) as f:
            tls = ["--cacert", f.file("cert.pem")]
            r = f.loadctl(*tls, "--client-cert", f.file("client.pem"), "--client-key",
                          f.file("client.key"), "workers")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("idle", r.stdout)
            r = f.loadctl(*tls, "workers")  # no client certificate: no connection
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("cannot reach the coordinator", r.stderr)
            # A client certificate is not a token: the token is still needed.
            env = dict(f.env, LOADD_COORDINATOR=f.rest, LOADD_CACERT=f.file("cert.pem"),
                       LOADD_CLIENT_CERT=f.file("client.pem"),
                       LOADD_CLIENT_KEY=f.file("client.key"))
            env.pop("LOADD_TOKEN_FILE")
            r = subprocess.run([binary("loadctl"), "workers"], capture_output=True, text=True,
                               env=env, timeout=30)
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("loadctl sent no token", r.stderr)


class OperatorLimits(unittest.TestCase):
    def test_plans_beyond_the_limits_are_refused_before_anything_happens(self):
        limits = ["--max-users", "50", "--max-rate", "100", "--max-duration", "10s",
                  "--max-data-bytes", "1KiB", "--max-plan-bytes", "64KiB"]
        with Fleet(workers=1, coordinator_args=limits) as f:
            t = f.target_url
            steps = {"scenarios": [{"steps": [{"path": "/{{data.id}}"}]}]}
            cases = [
                (plan("http://example.invalid/"), "$.target",
                 'host "example.invalid" is not in this coordinator\'s allow list '
                 "(127.0.0.0/8, ::1, localhost); its operator can add it with --allow-host "
                 "example.invalid (allow-host in the coordinator's config file"),
                (json.dumps({"users": 1, "duration": "1s", "requests": [
                    {"url": t + "/"}, {"url": "http://192.0.2.7:8080/x"}]}),
                 "$.requests[1].url", 'host "192.0.2.7" is not in'),
                (json.dumps({"users": 1, "duration": "1s", "scenarios": [{"steps": [
                    {"url": "http://[2001:db8::1]/"}]}]}),
                 "$.scenarios[0].steps[0].url", 'host "2001:db8::1"'),
                (plan(t, users=51), "$.users",
                 "51 users is above this coordinator's limit of 50 users per run; its "
                 "operator can raise it with --max-users (max-users in the coordinator's "
                 "config file"),
                (json.dumps({"target": t, "arrival_rate": 101, "max_in_flight": 10, "duration": "1s"}),
                 "$.arrival_rate", "limit of 100 arrivals/s per run; its operator can raise "
                                   "it with --max-rate"),
                (plan(t, duration="11s"), "$.duration", "--max-duration"),
                (json.dumps(dict({"target": t, "users": 1, "duration": "1s", "data": {
                    "content": "id\n" + "1\n" * 1024}}, **steps)),
                 "$.data.content", "is above this coordinator's limit of 1 KiB per run; its "
                                   "operator can raise it with --max-data-bytes"),
                (plan(t, env={"A": "x" * 32768, "B": "y" * 32768}), "$",
                 "(apart from its data file) is above this coordinator's limit of 64 KiB"),
            ]
            served = f.served()
            for body, path, message in cases:
                status, reply = http("POST", f.rest + "/v1/runs", body)
                self.assertEqual(status, 403, (path, reply))
                self.assertEqual(reply["error"]["code"], "permission_denied")
                self.assertEqual(reply["error"]["path"], path, reply)
                self.assertIn(message, reply["error"]["message"])
                self.assertEqual(runs(f), [])
            self.assertEqual(f.served(), served)  # not one request was sent
            # loadctl shows the field and the limit, exit code 4; validate does not
            # apply coordinator limits.
            path = os.path.join(f.tmp, "far.json")
            with open(path, "w") as out:
                out.write(cases[0][0])
            r = f.loadctl("start", path)
            self.assertEqual(r.returncode, 4, r.stderr)
            self.assertIn("loadctl: $.target: host \"example.invalid\" is not in", r.stderr)
            self.assertEqual(f.loadctl("validate", path).returncode, 0)
            good_run(self, f)


class Reload(unittest.TestCase):
    def test_sighup_applies_token_allow_list_and_caps(self):
        d = tempfile.mkdtemp(prefix="loadd-e2e-conf-")
        conf = os.path.join(d, "coordinator.conf")

        def write_conf(text):
            with open(conf, "w") as out:
                out.write(text)

        write_conf('allow-host = ["127.0.0.0/8"]\nmax-users = 100\n')
        with Fleet(workers=1, coordinator_args=["--config", conf]) as f:
            good_run(self, f)
            # A new token: the old one is refused, the new one works.
            new_token = secrets.token_hex(32)
            write_secret(f.secrets, "token", new_token)
            signal_and_wait_reload(self, f)
            self.assertEqual(http("GET", f.rest + "/v1/runs")[0], 401)
            self.assertEqual(http("GET", f.rest + "/v1/runs", token=new_token)[0], 200)
            self.assertIn("SIGHUP: REST token: changed", f.log("coordinator"))

            def call(method, url, body=None):
                return http(method, url, body, token=new_token)

            # A narrower allow list and a lower cap apply at once.
            write_conf('allow-host = ["localhost"]\nmax-users = 5\n')
            signal_and_wait_reload(self, f)
            status, reply = call("POST", f.rest + "/v1/runs", plan(f.target_url))
            self.assertEqual((status, reply["error"]["path"]), (403, "$.target"), reply)
            log = f.log("coordinator")
            self.assertIn("SIGHUP: --allow-host: 127.0.0.0/8 -> localhost", log)
            self.assertIn("SIGHUP: --max-users: 100 -> 5", log)
            write_conf('allow-host = ["127.0.0.1"]\nmax-users = 5\nrest-threads = 3\n')
            signal_and_wait_reload(self, f)
            status, reply = call("POST", f.rest + "/v1/runs", plan(f.target_url, users=6))
            self.assertEqual((status, reply["error"]["path"]), (403, "$.users"), reply)
            self.assertIn("--rest-threads changed but take effect only after a restart",
                          f.log("coordinator"))
            good_run(self, f, call=call)
            # A reload that fails changes nothing and says why.
            write_conf('allow-host = ["127.0.0.1"]\nmax-users = lots\n')
            signal_and_wait_reload(self, f)
            self.assertIn('reload failed, keeping the running settings: --max-users: "lots"',
                          f.log("coordinator"))
            status, reply = call("POST", f.rest + "/v1/runs", plan(f.target_url, users=6))
            self.assertEqual(status, 403, reply)
            good_run(self, f, call=call)


class BadInput(unittest.TestCase):
    def test_bad_requests_change_nothing(self):
        args = ["--rest-header-timeout", "2s", "--rest-body-timeout", "3s"]
        with Fleet(workers=1, coordinator_args=args) as f:
            port, t = f.rest_port, f.target_url
            auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            bodies = [
                ('{"target": "%s", "users": "many"}' % t, 400, "$.users"),
                ('{"target": "%s", "users": [1]}' % t, 400, "$.users"),
                ('{"target": 5, "users": 1}', 400, "$.target"),
                ('{"target": "%s", "users": 1e400}' % t, 400, None),
                ('{"target": "%s", "users": 18446744073709551616}' % t, 400, "$.users"),
                ('{"target": "%s", "users": 1, "duration": 1e400}' % t, 400, None),
                ("[" * 100000, 400, None),
                ('{"target": "%s", "users": 1, "name": "\xff\xfe"}' % t, 400, None),
                ("", 400, None),
            ]
            for body, code, path in bodies:
                data = body.encode("latin-1") if "\xff" in body else body.encode()
                status, reply = http("POST", f.rest + "/v1/runs", data)
                self.assertEqual(status, code, (body[:80], reply))
                self.assertEqual(reply["error"]["code"], "invalid_argument", reply)
                if path:
                    self.assertEqual(reply["error"]["path"], path, reply)
                self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            # 10 MB: 413 with the limits named, and the API still serves.
            status, reply = http("POST", f.rest + "/v1/runs", b"x" * 10_000_000, timeout=30)
            self.assertEqual(status, 413, reply)
            self.assertIn("--max-plan-bytes", reply["error"]["message"])
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            # A Content-Length of 100 GB or of 2^64 is refused before any body.
            for length, code in ((b"100000000000", "413"), (b"18446744073709551616", "400"),
                                 (b"-5", "400")):
                line, body = raw_request(port, b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth +
                                         b"Content-Length: " + length + b"\r\n\r\n{")
                self.assertIn(code, line, body)
                self.assertIn('"error"', body)
                self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            # So is a chunked body (here with a 1 TB chunk): it needs a Content-Length.
            line, body = raw_request(port, b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth +
                                     b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n{")
            self.assertIn("400", line, body)
            self.assertIn("Content-Length", body)
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)
            # Headers past 64 KiB are refused while they arrive.
            line, body = raw_request(port, b"GET /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth +
                                     b"X-Pad: " + b"p" * (70 << 10) + b"\r\n\r\n")
            self.assertIn("413", line, body)
            # A request with no token is refused when its headers are in.
            line, body = raw_request(port, b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n"
                                           b"Content-Length: 5000000\r\n\r\n{")
            self.assertIn("401", line)
            line, _ = raw_request(port, b"BREW /pot HTTP/1.1\r\n\r\n")
            self.assertIn("400", line)
            self.assertEqual(runs(f), [])
            good_run(self, f)

    def test_a_full_size_data_file_is_admitted(self):
        with Fleet(workers=1) as f:
            # 8 MiB of 32-byte rows; their JSON escapes (one byte per line break)
            # count toward --max-plan-bytes.
            rows = "".join("%031d\n" % i for i in range(1 << 18))
            content = ("id\n" + rows)[: 8 << 20]
            content = content[: content.rindex("\n") + 1]
            body = json.dumps({"target": f.target_url, "users": 2, "duration": "500ms",
                               "graceful_stop": "0s", "data": {"content": content},
                               "scenarios": [{"steps": [{"path": "/{{data.id}}"}]}]})
            self.assertGreater(len(body), 8 << 20)
            status, reply = http("POST", f.rest + "/v1/runs", body, timeout=30)
            self.assertEqual(status, 201, reply)
            self.assertTrue(wait_until(lambda: runs(f)[0]["state"] in ENDED, 30), runs(f))
            self.assertEqual(runs(f)[0]["state"], "finished", runs(f))

    def test_stalled_clients_are_cut_off_and_others_served(self):
        args = ["--rest-header-timeout", "2s", "--rest-body-timeout", "3s"]
        with Fleet(workers=1, coordinator_args=args) as f:
            auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            halves = [b"GET /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth,  # headers never end
                      b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth +
                      b"Content-Length: 100\r\n\r\n{\"users\"",  # body never ends
                      b""]  # says nothing at all
            closed = {}

            def stall(i, data):
                start = time.time()
                with socket.create_connection(("127.0.0.1", f.rest_port), timeout=30) as s:
                    if data:
                        s.sendall(data)
                    try:
                        while s.recv(4096):
                            pass
                    except OSError:
                        pass
                closed[i] = time.time() - start

            threads = [threading.Thread(target=stall, args=(i, d)) for i, d in enumerate(halves)]
            for th in threads:
                th.start()
            time.sleep(0.3)
            # Meanwhile others are served promptly.
            for _ in range(5):
                start = time.time()
                self.assertEqual(http("GET", f.rest + "/v1/runs")[0], 200)
                self.assertLess(time.time() - start, 1.0 * SLOW)
            good_run(self, f)
            for th in threads:
                th.join(30)
            # Cut off at the header (2 s) or body (3 s) timeout, with margin.
            print("rest: stalled connections closed after %s s (header timeout 2 s, body 3 s)"
                  % ", ".join("%.1f" % closed[i] for i in sorted(closed)))
            self.assertEqual(sorted(closed), [0, 1, 2])
            for i, seconds in closed.items():
                self.assertLess(seconds, 8 * SLOW, (i, closed))
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)


def read_until_closed(sock, limit=5.0):
    """Everything the server sends until it closes the connection; (bytes,
    seconds it took, whether it closed within `limit`)."""
    start = time.time()
    sock.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, time.time() - start, True
            data += chunk
    except socket.timeout:
        return data, time.time() - start, False
    except OSError:  # reset after the answer: closed too
        return data, time.time() - start, True


def status_and_json(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    length = int(headers.get("content-length", len(body)))
    return int(lines[0].split()[1]), headers, json.loads(body[:length].decode("utf-8"))


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class Connections(unittest.TestCase):
    """Issue 14, item 8: Connection: close, duplicate Content-Length, /ui/,
    405s and raw bytes in errors."""

    def test_connection_close_and_http10_close_after_the_answer(self):
        with Fleet(workers=1) as f:
            cases = [(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", True),
                     (b"GET /healthz HTTP/1.0\r\n\r\n", True),
                     (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", False),
                     (b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False)]
            for request, closes in cases:
                with socket.create_connection(("127.0.0.1", f.rest_port), timeout=5) as s:
                    s.sendall(request)
                    answer, seconds, closed = read_until_closed(s, limit=1.5 * SLOW)
                    status, headers, body = status_and_json(answer)
                    self.assertEqual((status, body), (200, {"status": "ok"}), answer)
                    print("rest: %r: closed=%s after %.2f s" % (request, closed, seconds))
                    self.assertEqual(closed, closes, request)
                    if closes:
                        self.assertEqual(headers["connection"].lower(), "close", headers)
                        self.assertLess(seconds, 1.0 * SLOW)
                    else:  # kept alive: a second request on it is answered
                        s.sendall(request)
                        self.assertIn(b" 200 ", read_until_closed(s, limit=0.5)[0])

    def test_two_content_lengths_are_a_400(self):
        with Fleet(workers=1) as f:
            auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            body = plan(f.target_url).encode()
            for lengths in ((len(body), len(body) - 2), (len(body), len(body))):
                request = (b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n" + auth +
                           b"".join(b"Content-Length: %d\r\n" % n for n in lengths) +
                           b"\r\n" + body)
                with socket.create_connection(("127.0.0.1", f.rest_port), timeout=5) as s:
                    s.sendall(request)
                    answer, _, closed = read_until_closed(s)
                status, _, reply = status_and_json(answer)
                self.assertEqual(status, 400, reply)
                self.assertEqual(reply["error"]["code"], "invalid_argument")
                self.assertIn("more than one Content-Length", reply["error"]["message"])
                self.assertTrue(closed)
            self.assertEqual(runs(f), [])  # no run was created
            good_run(self, f)

    def test_route_errors_are_json_and_ui_files_as_documented(self):
        with Fleet(workers=1) as f:
            r = f.rest
            cases = [("GET", "/ui/app.js", None, 200, None),
                     ("GET", "/ui/no-such.js", None, 401, "unauthenticated"),
                     ("GET", "/ui/no-such.js", TOKEN, 404, "not_found"),
                     ("POST", "/healthz", None, 401, "unauthenticated"),
                     ("POST", "/healthz", TOKEN, 404, "not_found"),
                     ("DELETE", "/v1/runs", TOKEN, 404, "not_found"),
                     ("GET", "/no/such/path", TOKEN, 404, "not_found")]
            for method, path, token, code, error in cases:
                req = urllib.request.Request(r + path, method=method)
                if token:
                    req.add_header("Authorization", "Bearer " + token)
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        status, ctype, raw = resp.status, resp.headers["Content-Type"], b""
                except urllib.error.HTTPError as e:
                    status, ctype, raw = e.code, e.headers["Content-Type"], e.read()
                self.assertEqual(status, code, (method, path, token, raw))
                if error:
                    self.assertEqual(ctype, "application/json", (method, path))
                    self.assertEqual(json.loads(raw)["error"]["code"], error, raw)
            status, reply = http("POST", r + "/healthz", "")
            self.assertIn("this path answers GET", reply["error"]["message"])

    def test_a_path_of_40000_slashes_is_a_400_not_a_crash(self):
        # Pistache's router collapsed '/' runs with std::regex, which recursed per
        # character: GET /ui/ + 40,000 '/' (open, no token) killed the coordinator.
        with Fleet(workers=1) as f:
            for path in (b"/ui/" + b"/" * 40000, b"/" * 40000 + b"healthz"):
                line, body = raw_request(f.rest_port, b"GET " + path + b" HTTP/1.1\r\n\r\n")
                self.assertIn("400", line, body)
                self.assertIn("longer than 2048 bytes", body)
            self.assertIsNone(f.coordinator.poll())
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)

    def test_invalid_utf8_is_never_echoed_raw(self):
        with Fleet(workers=1) as f:
            auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            for path in (b"/v1/runs/r\xff\xfe", b"/v1/runs/r\xc3(/hlog", b"/x\xed\xa0\x80"):
                with socket.create_connection(("127.0.0.1", f.rest_port), timeout=5) as s:
                    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                              auth + b"\r\n")
                    answer, _, _ = read_until_closed(s)
                status, _, reply = status_and_json(answer)  # decodes strict UTF-8
                self.assertEqual(status, 404, reply)
                # A run id is replaced (U+FFFD), a path shown as \xHH.
                message = reply["error"]["message"]
                self.assertTrue("\ufffd" in message or "\\xED" in message, message)


class TokenlessBodies(unittest.TestCase):
    """Issue 14, item 3: a body on an open route is refused before it is read."""

    HEADS = [b"POST /healthz HTTP/1.1\r\n", b"GET / HTTP/1.1\r\n", b"GET /ui/x HTTP/1.1\r\n",
             b"GET /healthz HTTP/1.1\r\n", b"GET /ui/app.js HTTP/1.1\r\n"]
    BODY_BYTES = 9 << 20

    def head(self, i):
        return (self.HEADS[i % len(self.HEADS)] + b"Host: x\r\nContent-Length: %d\r\n\r\n"
                % self.BODY_BYTES)

    def test_refused_at_once_with_json_and_closed(self):
        with Fleet(workers=1) as f:
            for i in range(len(self.HEADS)):
                with socket.create_connection(("127.0.0.1", f.rest_port), timeout=5) as s:
                    s.sendall(self.head(i) + b"x" * 65536)
                    answer, seconds, closed = read_until_closed(s, limit=3 * SLOW)
                status, headers, reply = status_and_json(answer)
                self.assertEqual(status, 401, (self.HEADS[i], reply))
                self.assertEqual(reply["error"]["code"], "unauthenticated")
                self.assertEqual(headers["connection"].lower(), "close")
                self.assertTrue(closed, "still open %.1f s after the answer" % seconds)
            # With the token, an open route's body is a 413 naming the route.
            auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            with socket.create_connection(("127.0.0.1", f.rest_port), timeout=5) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + auth +
                          b"Content-Length: 5\r\n\r\nhello")
                answer, _, closed = read_until_closed(s)
            status, _, reply = status_and_json(answer)
            self.assertEqual(status, 413, reply)
            self.assertIn("GET /healthz takes no request body", reply["error"]["message"])
            self.assertTrue(closed)

    def test_fifty_9mib_bodies_hold_no_memory(self):
        with Fleet(workers=1) as f:
            pid = f.coordinator.pid
            body = b"x" * self.BODY_BYTES
            try:  # reset the peak (VmHWM) to the current RSS
                with open(f"/proc/{pid}/clear_refs", "w") as clear:
                    clear.write("5")
                reset = True
            except OSError:
                reset = False
            rss_before, hwm_before = vm_kib(pid, "VmRSS"), vm_kib(pid, "VmHWM")
            answers, stop = [], threading.Event()

            def send(i):
                try:
                    with socket.create_connection(("127.0.0.1", f.rest_port), timeout=10) as s:
                        try:
                            s.sendall(self.head(i) + body)
                        except OSError:
                            pass  # closed while sending: refused
                        answers.append(read_until_closed(s, limit=10)[0][:12])
                except OSError as e:
                    answers.append(repr(e).encode())

            health = []

            def poll_health():
                while not stop.is_set():
                    start = time.time()
                    try:
                        ok = http("GET", f.rest + "/healthz", token=None, timeout=5)[0] == 200
                    except OSError:
                        ok = False
                    health.append((ok, time.time() - start))
                    time.sleep(0.02)

            poller = threading.Thread(target=poll_health)
            poller.start()
            start = time.time()
            senders = [threading.Thread(target=send, args=(i,)) for i in range(50)]
            for t in senders:
                t.start()
            for t in senders:
                t.join(60)
            seconds = time.time() - start
            stop.set()
            poller.join(10)
            hwm_after, rss_after = vm_kib(pid, "VmHWM"), vm_kib(pid, "VmRSS")
            base = rss_before if reset else hwm_before
            slowest = max(s for _, s in health)
            print("rest: 50 tokenless 9 MiB bodies to open routes in %.1f s: coordinator RSS "
                  "%d KiB before, peak (VmHWM) %d KiB%s, %d KiB after; /healthz answered "
                  "%d/%d polls meanwhile, slowest %.3f s; answers seen: %d x 401"
                  % (seconds, rss_before, hwm_after,
                     " (peak reset before)" if reset else " (peak before: %d KiB)" % hwm_before,
                     rss_after, sum(ok for ok, _ in health), len(health), slowest,
                     sum(a.startswith(b"HTTP/1.1 401") for a in answers)))
            self.assertFalse(any(t.is_alive() for t in senders))
            self.assertLess(hwm_after - base, 64 << 10)
            self.assertTrue(all(ok for ok, _ in health), health)
            self.assertGreater(len(health), 3)
            self.assertLess(slowest, 1.0 * SLOW)
            self.assertEqual(f.coordinator.poll(), None)
            self.assertEqual(http("GET", f.rest + "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
