"""docs/openapi.yaml is the coordinator's REST API, checked both ways:

- The routes of the code's route table (kRoutes in
  daemon/coordinator/rest_routes.h) and the document's paths are the same set,
  and a route open without the token is documented as such (security [{}]).
- On a live fleet every documented operation is called, with the token and
  without; each answer's status must be documented for that operation, its
  Content-Type must be one the document lists, and a JSON body must validate
  against the documented schema (draft 2020-12, as OpenAPI 3.1 uses). Every
  operation must have answered with a 2xx at least once.

Needs python3-jsonschema and python3-yaml (Debian) and a built loadd."""

import json
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

from fleet import TOKEN, Fleet

try:
    import jsonschema
    import yaml
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")  # Debian's, under another interpreter
    import jsonschema
    import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
ROUTES_SOURCE = os.path.join(ROOT, "daemon", "coordinator", "rest_routes.h")
FINAL = ("finished", "stopped", "failed", "interrupted")


def code_routes():
    """{(method, openapi path): open} from kRoutes."""
    with open(ROUTES_SOURCE) as f:
        source = f.read()
    table = source[source.index("kRoutes[] = {"):]
    table = table[:table.index("\n};")]
    routes = {}
    for method, path, access in re.findall(
            r'\{RouteId::k\w+,\s*Pistache::Http::Method::(Get|Post|Patch),\s*"([^"]*)",'
            r'\s*RouteAccess::(k\w+)', table):
        path = re.sub(r":(\w+)", r"{\1}", path)
        routes[(method.lower(), path)] = access != "kToken"
    return routes


def deref(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def call(rest, method, path, body=None, token=TOKEN):
    """(status, media type, raw text)."""
    req = urllib.request.Request(rest + path, method=method.upper(),
                                 data=body.encode() if body is not None else None)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    media = (headers.get("Content-Type") or "").split(";")[0].strip()
    return status, media, raw.decode(errors="replace")


class Contract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(OPENAPI) as f:
            cls.doc = yaml.safe_load(f)
        # Components as $defs of one schema, so jsonschema needs no resolver.
        defs = json.loads(json.dumps(cls.doc["components"]["schemas"])
                          .replace('"#/components/schemas/', '"#/$defs/'))
        cls.defs = defs

    def operation(self, method, template):
        op = self.doc["paths"].get(template, {}).get(method)
        self.assertIsNotNone(op, f"{method.upper()} {template} is not in docs/openapi.yaml")
        return op

    def check(self, rest, method, template, path=None, body=None, token=TOKEN, want=None):
        """Calls the operation and checks the answer against the document;
        returns (status, parsed JSON or text)."""
        status, media, text = call(rest, method, path or template, body, token)
        where = f"{method.upper()} {path or template} -> {status}"
        if want is not None:
            self.assertEqual(status, want, f"{where}: {text[:300]}")
        op = self.operation(method, template)
        responses = op["responses"]
        self.assertIn(str(status), responses, f"{where}: status not documented")
        response = deref(self.doc, responses[str(status)])
        content = response.get("content")
        if content is None:
            return status, text
        self.assertTrue(media in content or "*/*" in content,
                        f"{where}: Content-Type {media!r} not documented ({list(content)})")
        schema = (content.get(media) or content["*/*"]).get("schema", {})
        schema = json.loads(json.dumps(schema).replace('"#/components/schemas/', '"#/$defs/'))
        if media == "application/json":
            value = json.loads(text)
        else:
            value = text
        jsonschema.Draft202012Validator(dict(schema, **{"$defs": self.defs})).validate(value)
        if 200 <= status < 300:
            self.called.add((method, template))
        return status, value

    def test_routes_in_code_and_document_agree(self):
        routes = code_routes()
        self.assertGreaterEqual(len(routes), 8, routes)
        documented = {(m, p) for p, ops in self.doc["paths"].items() for m in ops
                      if m in ("get", "post", "put", "delete", "patch")}
        self.assertEqual(set(routes) - documented, set(),
                         "routes in rest_routes.h missing from docs/openapi.yaml")
        self.assertEqual(documented - set(routes), set(),
                         "docs/openapi.yaml documents routes the coordinator does not have")
        for (method, path), is_open in routes.items():
            security = self.doc["paths"][path][method].get("security", self.doc["security"])
            self.assertEqual({} in security, is_open,
                             f"{method.upper()} {path}: open={is_open} in the code, "
                             f"security {security} in the document")

    def test_every_operation_answers_as_documented(self):
        self.called = set()
        # Small body limits, so the 413 comes with a small body.
        with Fleet(workers=1, coordinator_args=["--max-plan-bytes", "64KiB",
                                                "--max-data-bytes", "1KiB"]) as f:
            rest = f.rest
            self.check(rest, "get", "/healthz", want=200)
            self.check(rest, "get", "/healthz", token=None, want=200)
            self.check(rest, "get", "/v1/workers", want=200)
            self.check(rest, "get", "/metrics", want=200)
            self.check(rest, "post", "/v1/runs", body='{"target": "http://127.0.0.1:9"}', want=400)
            self.check(rest, "post", "/v1/runs", want=403, body=json.dumps(
                {"target": "http://192.0.2.1", "users": 1, "duration": "1s"}))
            self.check(rest, "post", "/v1/runs", want=413,
                       body='{"name": "' + "x" * 100_000 + '"}')
            for template in ("/v1/runs/{id}", "/v1/runs/{id}/hlog"):
                self.check(rest, "get", template, path=template.replace("{id}", "nope"), want=404)
            self.check(rest, "post", "/v1/runs/{id}/stop", path="/v1/runs/nope/stop", want=404)

            # A closed-model run with a scenario, checks and a threshold, stopped early.
            plan = {"name": "contract", "target": f.target_url, "users": 4, "duration": "20s",
                    "labels": {"branch": "main"},
                    "thresholds": {"http.p95": "<2s", "step:nope.p95": "<1s"},
                    "scenarios": [{"name": "s", "steps": [
                        {"name": "home", "path": "/delay/1ms", "checks": [{"status": 200}]},
                        {"name": "bad", "path": "/?status=500"}]}]}
            _, created = self.check(rest, "post", "/v1/runs", body=json.dumps(plan), want=201)
            run = created["id"]
            # The fleet is busy: queued (202), cancelled; or refused at once (409).
            _, queued = self.check(rest, "post", "/v1/runs", body=json.dumps(plan), want=202)
            self.check(rest, "post", "/v1/runs/{id}/stop",
                       path=f"/v1/runs/{queued['id']}/stop", want=200)
            self.check(rest, "post", "/v1/runs", body=json.dumps(dict(plan, queue=False)),
                       want=409)
            self.wait(rest, run, lambda r: r["totals"]["requests"] > 0)
            self.check(rest, "get", "/v1/runs", want=200)
            _, listed = self.check(rest, "get", "/v1/runs", want=200,
                                   path="/v1/runs?label=branch=main&state=starting,running")
            self.assertEqual([r["id"] for r in listed["runs"]], [run])
            self.assertEqual(listed["runs"][0]["labels"], {"branch": "main"})
            self.check(rest, "get", "/v1/runs", path="/v1/runs?state=done", want=400)
            self.check(rest, "get", "/v1/runs/{id}", path=f"/v1/runs/{run}", want=200)
            self.check(rest, "get", "/metrics", want=200)
            # Live scaling: the run's model only; an unknown run is 404.
            self.check(rest, "patch", "/v1/runs/{id}", path=f"/v1/runs/{run}",
                       body='{"users": 6}', want=200)
            self.check(rest, "patch", "/v1/runs/{id}", path=f"/v1/runs/{run}",
                       body='{"rate": 6}', want=400)
            self.check(rest, "patch", "/v1/runs/{id}", path="/v1/runs/nope",
                       body='{"users": 6}', want=404)
            self.check(rest, "post", "/v1/runs/{id}/stop", path=f"/v1/runs/{run}/stop", want=200)
            report = self.wait(rest, run, lambda r: r["state"] in FINAL)
            self.assertEqual(report["state"], "stopped")
            self.assertIn("timeline", report)
            _, lean = self.check(rest, "get", "/v1/runs/{id}", path=f"/v1/runs/{run}?timeline=0",
                                 want=200)
            self.assertNotIn("timeline", lean)
            # ?since=N: the timeline's seconds from t = N on.
            seconds = [s["t"] for s in report["timeline"]]
            self.assertGreaterEqual(len(seconds), 1, report)
            for since in (seconds[-1], seconds[-1] + 1):
                _, tail = self.check(rest, "get", "/v1/runs/{id}",
                                     path=f"/v1/runs/{run}?since={since}", want=200)
                self.assertEqual([s["t"] for s in tail["timeline"]],
                                 [t for t in seconds if t >= since])
            _, bad = self.check(rest, "get", "/v1/runs/{id}", path=f"/v1/runs/{run}?since=-1",
                                want=400)
            self.assertEqual(bad["error"]["path"], "since", bad)
            self.check(rest, "get", "/v1/runs/{id}/hlog", path=f"/v1/runs/{run}/hlog", want=200)
            self.check(rest, "post", "/v1/runs/{id}/stop", path=f"/v1/runs/{run}/stop", want=409)
            self.check(rest, "patch", "/v1/runs/{id}", path=f"/v1/runs/{run}",
                       body='{"users": 6}', want=409)

            # An open-model run: its endpoints carry `service` latencies.
            plan = {"target": f.target_url + "/delay/1ms", "arrival_rate": 200, "duration": "1s",
                    "max_in_flight": 50}
            _, created = self.check(rest, "post", "/v1/runs", body=json.dumps(plan), want=201)
            report = self.wait(f.rest, created["id"], lambda r: r["state"] in FINAL)
            self.assertIn("service", report["endpoints"][0])
            self.check(rest, "get", "/v1/runs/{id}", path=f"/v1/runs/{created['id']}", want=200)
            self.check(rest, "get", "/metrics", want=200)
            # The two runs compared (docs/compare.md): different plans, and said so.
            _, compared = self.check(rest, "get", "/v1/compare",
                                     path=f"/v1/compare?base={run}&candidate={created['id']}",
                                     want=200)
            self.assertIn("plan", [w["kind"] for w in compared["warnings"]])
            self.check(rest, "get", "/v1/compare", path=f"/v1/compare?base={run}", want=400)
            self.check(rest, "get", "/v1/compare",
                       path=f"/v1/compare?base={run}&candidate=nope", want=404)

            # The dashboard: its page, a file it refers to, and a name that is none.
            _, page = self.check(rest, "get", "/", token=None, want=200)
            files = re.findall(r'ui/([\w.-]+)', page)
            self.assertTrue(files, "the dashboard page refers to no /ui/ file")
            self.check(rest, "get", "/ui/{file}", path="/ui/" + files[0], token=None, want=200)
            self.check(rest, "get", "/ui/{file}", path="/ui/no-such-file.js", want=404)
            self.check(rest, "get", "/ui/{file}", path="/ui/no-such-file.js", token=None,
                       want=401)

            # Without the token every other operation answers 401 as documented.
            for template, ops in self.doc["paths"].items():
                for method, op in ops.items():
                    if {} in op.get("security", self.doc["security"]):
                        continue
                    path = template.replace("{id}", run)
                    self.check(rest, method, template, path=path, token=None, want=401)
                    self.check(rest, method, template, path=path, token="wrong", want=401)

        documented = {(m, p) for p, ops in self.doc["paths"].items() for m in ops}
        self.assertEqual(documented - self.called, set(), "operations never answered 2xx")

    def wait(self, rest, run, done, timeout=30):
        deadline = time.time() + timeout
        while True:
            status, _, text = call(rest, "get", f"/v1/runs/{run}")
            self.assertEqual(status, 200, text)
            report = json.loads(text)
            if done(report) or time.time() > deadline:
                return report
            time.sleep(0.1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
