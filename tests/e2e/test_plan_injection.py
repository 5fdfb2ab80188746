"""Issue 14, item 4: no plan text and no run-time value may put CR, LF or NUL
on the wire, on the native engine and on libcurl (`--engine curl`).

A raw HTTP/1.1 server on loopback (here, standard library) records every
request head and body byte for byte. Its /seed answer carries a token with
CR/LF, a header and a second request in it (a hostile target); the next step
sends that token in its path, query, a header, auth.bearer and a form.
Nothing of it may start a line: the header value arrives with each CR/LF as
a space, path/query/form as %XX. A literal form value ("a&b=c d") arrives
url-encoded, at the raw server and at `loadd target`'s /echo (which answers
with the body it got; a body_contains check proves what arrived).

Literal injections in the plan itself are refused at validation: see
common/http_fields_test.cc and test_schema.py's table."""

import json
import os
import socket
import threading
import unittest
import urllib.parse

from fleet import Fleet

HOSTILE = "tok\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y"
SPACED = HOSTILE.replace("\r", " ").replace("\n", " ")
ENCODED = urllib.parse.quote(HOSTILE, safe="-._~")
FORM_LITERAL = "lit=a%26b%3Dc%20d"


class RawServer:
    """Keep-alive HTTP/1.1 server that records (request line, header lines,
    body) of everything it is sent; heads are split on LF alone, so an
    injected bare LF would show up as a line of its own."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = [line.rstrip(b"\r").decode("latin-1") for line in head.split(b"\n")]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[:length], buf[length:]
                with self.lock:
                    self.requests.append((lines[0], lines[1:], body.decode("latin-1")))
                answer = json.dumps({"t": HOSTILE}).encode() if " /seed" in lines[0] else b"ok"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))

    def close(self):
        self.sock.close()


class PlanInjection(unittest.TestCase):
    def setUp(self):
        self.server = RawServer()

    def tearDown(self):
        self.server.close()

    def plan(self, echo_url):
        return {"users": 2, "spawn_rate": 100, "duration": "1s",
                "target": self.server.url,
                "scenarios": [{"think_time": "50ms", "steps": [
                    {"name": "seed", "path": "/seed", "extract": {"tok": {"json": "/t"}}},
                    {"name": "send", "method": "POST", "path": "/send/{{tok}}",
                     "query": {"q": "{{tok}}", "lit": "a b&c"},
                     "headers": {"X-T": "{{tok}}"}, "auth": {"bearer": "{{tok}}"},
                     "form": {"lit": "a&b=c d", "t": "{{tok}}"}},
                    {"name": "echo", "method": "POST", "url": echo_url,
                     "form": {"lit": "a&b=c d"},
                     "checks": [{"body_contains": FORM_LITERAL}]}]}]}

    def run_on(self, engine_args):
        with Fleet(workers=1, worker_args=engine_args) as f:
            path = os.path.join(f.tmp, "plan.json")
            out = os.path.join(f.tmp, "report.json")
            with open(path, "w") as fh:
                json.dump(self.plan(f.target_url + "/echo"), fh)
            r = f.loadctl("start", path, "--out", out, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(out) as fh:
                return json.load(fh)

    def check_wire(self, run):
        with self.server.lock:
            requests = list(self.server.requests)
        sends = [r for r in requests if r[0].startswith("POST /send/")]
        self.assertGreater(len(sends), 0, requests[:3])
        for line, headers, _ in requests:
            self.assertRegex(line, r"^(GET /seed|POST /send/\S+) HTTP/1\.1$")
            for h in headers:
                self.assertNotRegex(h.lower(), r"^(x-injected|get |x: y)", (line, headers))
        for line, headers, body in sends:
            fields = {}
            for h in headers:
                name, _, value = h.partition(":")
                fields[name.lower()] = value.strip()
            self.assertEqual(line, f"POST /send/{ENCODED}?q={ENCODED}&lit=a%20b%26c HTTP/1.1")
            self.assertEqual(fields["x-t"], SPACED.strip())
            self.assertEqual(fields["authorization"], "Bearer " + SPACED.strip())
            self.assertEqual(fields["content-type"], "application/x-www-form-urlencoded")
            self.assertEqual(body, f"{FORM_LITERAL}&t={ENCODED}")
        echo = {c["name"]: c for c in run["checks"]}[f'echo: body contains "{FORM_LITERAL}"']
        self.assertGreater(echo["passed"], 0)
        self.assertEqual(echo["failed"], 0)

    def test_native_engine(self):
        self.check_wire(self.run_on([]))

    def test_curl_engine(self):
        self.check_wire(self.run_on(["--engine", "curl"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
