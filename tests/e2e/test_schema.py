"""docs/plan.schema.json against the real parser (`loadctl validate`).

- The schema is a valid draft 2020-12 schema; every property has a title, a
  description and examples; every object with properties has examples.
- Every examples/*.json plan validates against the schema and passes
  `loadctl validate`.
- A table of invalid plans (wrong type, unknown field, out-of-range value,
  bad duration, forms that do not go together) is refused by both, and
  loadctl's message names the JSON path at fault.
- Sync walk: for every property reachable in the schema and every value in
  its `examples`, a minimal plan is built from the examples of the objects
  around it; the first such plan the schema accepts must pass `loadctl
  validate`. A field the schema documents but the parser refuses fails here.
- Every field named in the field tables of docs/plan.md and
  docs/thresholds.md is a property of the schema.

Needs python3-jsonschema (Debian) and a built loadctl (LOADD_BIN_DIR).
"""

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import jsonschema

from fleet import binary

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA_PATH = os.path.join(ROOT, "docs", "plan.schema.json")
EXAMPLES = os.path.join(ROOT, "examples")
DOCS = [os.path.join(ROOT, "docs", "plan.md"), os.path.join(ROOT, "docs", "thresholds.md")]

T = "http://127.0.0.1:8080"
CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
# Files the schema's examples name ({"file": ...}); loadctl reads them
# relative to the plan file.
AUX_FILES = {
    "users.csv": "user,password\nalice,secret\nbob,hunter2\n",
    "ca.pem": CERT,
    "client.pem": CERT,
    "client.key": KEY,
}


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


class Loadctl:
    """Runs `loadctl validate` on plans written to a scratch directory that
    also holds AUX_FILES."""

    def __init__(self):
        self.exe = binary("loadctl")
        self.dir = tempfile.mkdtemp(prefix="loadd-schema-")
        for name, text in AUX_FILES.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        self.n = 0

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def validate_file(self, path):
        r = subprocess.run([self.exe, "validate", path], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, LOADD_COORDINATOR="http://127.0.0.1:9"))
        return r.returncode, (r.stdout + r.stderr).strip()

    def validate(self, plan):
        self.n += 1
        path = os.path.join(self.dir, f"plan{self.n}.json")
        with open(path, "w") as f:
            json.dump(plan, f)
        return self.validate_file(path)


# ---------------------------------------------------------------------------
# Walking the schema


class Walker:
    """Enumerates every property reachable from the root: (chain, container,
    key, schema). A chain is how the container sits in a plan: ("prop",
    parent node, key), ("item",) for an array element, ("map", key) for a
    member of an object of name: value."""

    def __init__(self, schema):
        self.schema = schema
        self.found = []

    def lookup(self, ref):
        assert ref.startswith("#/"), ref
        node = self.schema
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def resolve(self, node):
        # A $ref with sibling keywords: the siblings (title, examples, ...)
        # refine the target, as in draft 2020-12.
        while isinstance(node, dict) and "$ref" in node:
            merged = dict(self.lookup(node["$ref"]))
            merged.update({k: v for k, v in node.items() if k != "$ref"})
            node = merged
        return node

    def map_key(self, node, pattern):
        for example in node.get("examples", []):
            if isinstance(example, dict):
                for key in example:
                    if pattern is None or re.search(pattern, key):
                        return key
        return "x"

    def walk(self, node, chain=(), depth=0):
        assert depth < 30, "schema nesting too deep (a $ref cycle?)"
        node = self.resolve(node)
        if not isinstance(node, dict):
            return
        for key, sub in node.get("properties", {}).items():
            self.found.append((chain, node, key, self.resolve(sub)))
            self.walk(sub, chain + (("prop", node, key),), depth + 1)
        for keyword in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(keyword, []):
                self.walk(branch, chain, depth + 1)
        if isinstance(node.get("items"), dict):
            self.walk(node["items"], chain + (("item",),), depth + 1)
        if isinstance(node.get("additionalProperties"), dict):
            key = self.map_key(node, None)
            self.walk(node["additionalProperties"], chain + (("map", key),), depth + 1)
        for pattern, sub in node.get("patternProperties", {}).items():
            self.walk(sub, chain + (("map", self.map_key(node, pattern)),), depth + 1)


def path_of(chain, key):
    text = "$"
    for elem in chain:
        if elem[0] == "prop":
            text += "." + elem[2]
        elif elem[0] == "item":
            text += "[]"
        else:
            text += "." + elem[1]
    return text + "." + key


def dict_examples(node):
    return [e for e in node.get("examples", []) if isinstance(e, dict)]


def candidate_plans(chain, container, key, value):
    """Plans that put `value` at `key` of `container`: alone, then added to
    each of the container's examples; each level around it taken from the
    examples of the object there."""
    level = [{key: copy.deepcopy(value)}]
    level += [dict(copy.deepcopy(e), **{key: copy.deepcopy(value)})
              for e in dict_examples(container)]
    for elem in reversed(chain):
        if elem[0] == "item":
            level = [[c] for c in level]
        elif elem[0] == "map":
            level = [{elem[1]: c} for c in level]
        else:
            _, parent, k = elem
            level = [dict(copy.deepcopy(e), **{k: c})
                     for e in dict_examples(parent) for c in level]
    return level


def without_key(value, key):
    """A copy of value with every object member named key removed."""
    if isinstance(value, dict):
        return {k: without_key(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [without_key(v, key) for v in value]
    return value


# ---------------------------------------------------------------------------
# Invalid plans: each is refused by the schema and by loadctl validate, whose
# message must contain the path given.

B = {"target": T, "users": 10}


def plan(**fields):
    p = dict(B)
    p.update(fields)
    return {k: v for k, v in p.items() if v is not None}


def scen(step=None, **scenario):
    sc = {"steps": [step if step is not None else {"path": "/"}]}
    sc.update(scenario)
    return sc


def with_step(step, **fields):
    return plan(scenarios=[scen(step)], **fields)


def with_check(check):
    return with_step({"path": "/", "checks": [check]})


STEP0 = "$.scenarios[0].steps[0]"

INVALID = [
    # wrong type
    ("users is a boolean", plan(users=True), "$.users"),
    ("users is a word", plan(users="many"), "$.users"),
    ("users is not whole", plan(users="2.5"), "$.users"),
    ("name is a number", plan(name=5), "$.name"),
    ("requests is an object", plan(requests={"path": "/"}), "$.requests"),
    ("cookies is a string", plan(cookies="yes"), "$.cookies"),
    ("env value is a number", plan(env={"A": 1}), "$.env.A"),
    ("env value object without value", plan(env={"A": {"public": True}}), "$.env.A.value"),
    ("env public is not a boolean", plan(env={"A": {"value": "x", "public": "yes"}}),
     "$.env.A.public"),
    ("http_version is a number", plan(http_version=2), "$.http_version"),
    ("tls.insecure is a string", plan(tls={"insecure": "yes"}), "$.tls.insecure"),
    ("header value is a number", plan(requests=[{"path": "/", "headers": {"X": 1}}]),
     "$.requests[0].headers.X"),
    ("step body is an object", with_step({"path": "/", "body": {"a": 1}}), STEP0 + ".body"),
    ("think_time is a list", plan(scenarios=[scen(think_time=[1])]),
     "$.scenarios[0].think_time"),
    ("threshold is a number", plan(thresholds={"http.p95": 250}), '$.thresholds["http.p95"]'),
    ("scenario is a string", plan(scenarios=["login"]), "$.scenarios[0]"),
    # unknown fields
    ("unknown top-level field", plan(user=10), "$.user"),
    ("unknown request field", plan(requests=[{"path": "/", "methd": "GET"}]),
     "$.requests[0].methd"),
    ("unknown scenario field", plan(scenarios=[scen(thinktime="1s")]),
     "$.scenarios[0].thinktime"),
    ("unknown step field", with_step({"paht": "/"}), STEP0 + ".paht"),
    ("unknown check field", with_check({"status": 200, "stauts": 200}),
     STEP0 + ".checks[0].stauts"),
    ("unknown extract field", with_step({"path": "/", "extract": {"t": {"json": "/t", "jsn": "/t"}}}),
     STEP0 + ".extract.t.jsn"),
    ("unknown basic auth field",
     with_step({"path": "/", "auth": {"basic": {"user": "u", "password": "p", "realm": "r"}}}),
     STEP0 + ".auth.basic.realm"),
    ("unknown stage field",
     plan(users=None, stages=[{"duration": "1m", "users": 5, "ramp": "linear"}]),
     "$.stages[0].ramp"),
    ("unknown threshold option",
     plan(thresholds={"http.p95": {"condition": "<1s", "abort": True}}),
     '$.thresholds["http.p95"].abort'),
    ("unknown tls field", plan(tls={"cafile": "ca.pem"}), "$.tls.cafile"),
    ("unknown pem field", plan(tls={"ca": {"content": CERT, "path": "ca.pem"}}),
     "$.tls.ca.path"),
    ("unknown data field",
     plan(scenarios=[scen()], data={"content": "a\n1\n", "shuffle": True}), "$.data.shuffle"),
    ("think_time pacing with min", plan(scenarios=[scen(think_time={"pacing": "1s", "min": "1s"})]),
     "$.scenarios[0].think_time.min"),
    # out of range
    ("no users", plan(users=0), "$.users"),
    ("too many users", plan(users=10_000_001), "$.users"),
    ("spawn_rate 0", plan(spawn_rate=0), "$.spawn_rate"),
    ("negative arrival_rate", plan(users=None, arrival_rate=-1), "$.arrival_rate"),
    ("max_in_flight 0", plan(users=None, arrival_rate=10, max_in_flight=0), "$.max_in_flight"),
    ("expect_workers too many", plan(expect_workers=100_001), "$.expect_workers"),
    ("timeout above 1h", plan(timeout=7200), "$.timeout"),
    ("timeout zero", plan(timeout="0s"), "$.timeout"),
    ("duration above 7 days", plan(duration=700_000), "$.duration"),
    ("request weight 1001", plan(requests=[{"path": "/", "weight": 1001}]),
     "$.requests[0].weight"),
    ("scenario weight 0", plan(scenarios=[scen(weight=0)]), "$.scenarios[0].weight"),
    ("status 600", with_check({"status": 600}), STEP0 + ".checks[0].status"),
    ("empty status list", with_check({"status": []}), STEP0 + ".checks[0].status"),
    ("33 checks", with_step({"path": "/", "checks": [{"status": 200}] * 33}),
     STEP0 + ".checks"),
    ("101 stages", plan(users=None, stages=[{"duration": "1s", "users": 1}] * 101), "$.stages"),
    ("101 scenarios", plan(scenarios=[scen(name=f"s{i}") for i in range(101)]), "$.scenarios"),
    ("no steps", plan(scenarios=[{"steps": []}]), "$.scenarios[0].steps"),
    ("empty requests", plan(requests=[]), "$.requests"),
    ("65 headers", plan(requests=[{"path": "/", "headers": {f"H{i}": "v" for i in range(65)}}]),
     "$.requests[0].headers"),
    ("stages all without users", plan(users=None, stages=[{"duration": "1m", "users": 0}]),
     "$.stages"),
    ("error_rate fraction above 1", plan(thresholds={"http.error_rate": "<5"}),
     '$.thresholds["http.error_rate"]'),
    ("percentage above 100", plan(thresholds={"checks.pass_rate": ">101%"}),
     '$.thresholds["checks.pass_rate"]'),
    ("101 thresholds", plan(thresholds={f"step:s{i}.p95": "<1s" for i in range(101)}),
     "$.thresholds"),
    # enums
    ("http_version 3", plan(http_version="3"), "$.http_version"),
    ("HTTP/2 to an http target", plan(http_version="2"), "$.target"),
    ("HTTP/2 with an http step url",
     plan(target="https://127.0.0.1:8443", http_version="2",
          scenarios=[scen({"path": "/"}), scen({"url": T + "/"}, name="b")]),
     "$.scenarios[1].steps[0]"),
    ("HTTP/2 with an http request url",
     plan(target="https://127.0.0.1:8443", http_version="2", requests=[{"url": T + "/"}]),
     "$.requests[0]"),
    ("method FETCH", plan(requests=[{"path": "/", "method": "FETCH"}]), "$.requests[0].method"),
    ("step method FETCH", with_step({"path": "/", "method": "FETCH"}), STEP0 + ".method"),
    ("data mode", plan(scenarios=[scen()], data={"content": "a\n1\n", "mode": "round-robin"}),
     "$.data.mode"),
    ("data on_exhausted", plan(scenarios=[scen()], data={"content": "a\n1\n",
                                                        "on_exhausted": "wrap"}),
     "$.data.on_exhausted"),
    # durations
    ("duration with a word unit", plan(duration="10 sec"), "$.duration"),
    ("duration without a unit", plan(duration="5"), "$.duration"),
    ("duration with a trailing dot", plan(duration="1.s"), "$.duration"),
    ("negative timeout", plan(timeout="-1s"), "$.timeout"),
    ("negative number of seconds", plan(graceful_stop=-1), "$.graceful_stop"),
    ("think_time word", plan(scenarios=[scen(think_time="fast")]), "$.scenarios[0].think_time"),
    ("stage duration in words", plan(users=None, stages=[{"duration": "1 minute", "users": 5}]),
     "$.stages[0].duration"),
    ("step timeout with days", with_step({"path": "/", "timeout": "1d"}), STEP0 + ".timeout"),
    ("latency check without <", with_check({"latency": "250ms"}), STEP0 + ".checks[0].latency"),
    ("latency threshold without unit", plan(thresholds={"http.p95": "<250"}),
     '$.thresholds["http.p95"]'),
    ("latency threshold as percentage", plan(thresholds={"http.p99": "<5%"}),
     '$.thresholds["http.p99"]'),
    ("rate threshold as duration", plan(thresholds={"http.error_rate": "<5ms"}),
     '$.thresholds["http.error_rate"]'),
    ("abort delay in words",
     plan(thresholds={"http.p95": {"condition": "<1s", "abort_on_fail": True, "delay": "soon"}}),
     '$.thresholds["http.p95"].delay'),
    ("pacing zero", plan(scenarios=[scen(think_time={"pacing": "0"})]),
     "$.scenarios[0].think_time.pacing"),
    # forms that do not go together
    ("requests and scenarios", plan(requests=[{"path": "/"}], scenarios=[scen()]), "$.requests"),
    ("users and arrival_rate", plan(arrival_rate=10), "$.users"),
    ("stages and duration", plan(users=None, duration="1m",
                                 stages=[{"duration": "1m", "users": 5}]), "$.duration"),
    ("stages and users", plan(stages=[{"duration": "1m", "users": 5}]), "$.users"),
    ("max_in_flight in the closed model", plan(max_in_flight=10), "$.max_in_flight"),
    ("start_rate without stages", plan(start_rate=5), "$.start_rate"),
    ("start_rate with stages of users",
     plan(users=None, start_rate=5, stages=[{"duration": "1m", "users": 5}]), "$.start_rate"),
    ("stages of users then rates",
     plan(users=None, stages=[{"duration": "1m", "users": 5}, {"duration": "1m", "rate": 5}]),
     "$.stages[1]"),
    ("data without scenarios", plan(data={"content": "a\n1\n"}), "$.data"),
    ("data file and content", plan(scenarios=[scen()], data={"file": "users.csv",
                                                            "content": "a\n1\n"}),
     "$.data.file"),
    ("data file empty", plan(scenarios=[scen()], data={"file": ""}), "$.data.file"),
    ("data content without rows", plan(scenarios=[scen()], data={"content": "user\n"}),
     "$.data.content"),
    ("tls cert without key", plan(tls={"cert": {"content": CERT}}), "$.tls"),
    ("tls key without cert", plan(tls={"key": {"content": KEY}}), "$.tls"),
    ("tls insecure with ca", plan(tls={"insecure": True, "ca": {"content": CERT}}),
     "$.tls.insecure"),
    ("tls ca is not PEM", plan(tls={"ca": {"name": "ca.pem", "content": "hello"}}),
     "$.tls.ca.content"),
    ("tls key is a certificate", plan(tls={"cert": {"content": CERT}, "key": {"content": CERT}}),
     "$.tls.key.content"),
    ("check of two kinds", with_check({"status": 200, "body_contains": "ok"}),
     STEP0 + ".checks[0]"),
    ("equals without json", with_check({"equals": 1}), STEP0 + ".checks[0]"),
    ("json check without equals", with_check({"json": "/a"}), STEP0 + ".checks[0].equals"),
    ("json pointer without slash", with_check({"json": "a", "equals": 1}),
     STEP0 + ".checks[0].json"),
    ("auth bearer and basic",
     with_step({"path": "/", "auth": {"bearer": "t", "basic": {"user": "u", "password": "p"}}}),
     STEP0 + ".auth"),
    ("auth empty bearer", with_step({"path": "/", "auth": {"bearer": ""}}), STEP0 + ".auth"),
    ("basic auth without password", with_step({"path": "/", "auth": {"basic": {"user": "u"}}}),
     STEP0 + ".auth.basic.password"),
    ("think_time min without max", plan(scenarios=[scen(think_time={"min": "1s"})]),
     "$.scenarios[0].think_time.max"),
    ("extract of two kinds",
     with_step({"path": "/", "extract": {"t": {"json": "/t", "header": "X"}}}),
     STEP0 + ".extract.t"),
    ("step json and body", with_step({"path": "/", "json": {}, "body": "x"}), STEP0),
    ("step form of numbers", with_step({"path": "/", "form": {"a": 1}}), STEP0 + ".form.a"),
    ("step url and path", with_step({"path": "/", "url": T + "/"}), STEP0 + ".path"),
    ("request url and path", plan(requests=[{"path": "/", "url": T + "/"}]),
     "$.requests[0].path"),
    ("header value with CR LF",
     plan(requests=[{"path": "/", "headers": {"X": "a\r\nEvil: 1"}}]), "$.requests[0].headers.X"),
    ("header name with a space", plan(requests=[{"path": "/", "headers": {"X Y": "a"}}]),
     "$.requests[0].headers"),
    ("step header value with LF", with_step({"path": "/", "headers": {"X": "a\nb"}}),
     STEP0 + ".headers.X"),
    # Issue 14: CR/LF smuggling through the step's header names, auth and query.
    ("step header name smuggling a request",
     with_step({"path": "/", "headers": {
         "X-Name\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nX": "v"}}),
     STEP0 + ".headers"),
    ("step header value with NUL", with_step({"path": "/", "headers": {"X": "a\x00b"}}),
     STEP0 + ".headers.X"),
    ("step bearer with CR LF", with_step({"path": "/", "auth": {"bearer": "t\r\nX-Injected: 1"}}),
     STEP0 + ".auth.bearer"),
    ("step basic user with a colon",
     with_step({"path": "/", "auth": {"basic": {"user": "a:b", "password": "p"}}}),
     STEP0 + ".auth.basic.user"),
    ("step basic password with LF",
     with_step({"path": "/", "auth": {"basic": {"user": "u", "password": "p\nX: 1"}}}),
     STEP0 + ".auth.basic.password"),
    ("step query name with CR LF", with_step({"path": "/", "query": {"q\r\nX-Injected: 1": "v"}}),
     STEP0 + ".query"),
    ("step query value with LF", with_step({"path": "/", "query": {"q": "v\nX: 1"}}),
     STEP0 + ".query.q"),
    ("step form name with LF", with_step({"path": "/", "method": "POST", "form": {"k\nX": "v"}}),
     STEP0 + ".form"),
    ("request header name smuggling a request",
     plan(requests=[{"path": "/", "headers": {"X-Name\r\nX-Injected: 1\r\n\r\nGET /x HTTP/1.1": "v"}}]),
     "$.requests[0].headers"),
    ("request templates", plan(requests=[{"path": "/items/{{user}}"}]), "$.requests[0].path"),
    ("path without slash", plan(requests=[{"path": "items"}]), "$.requests[0].path"),
    ("path without target", {"users": 1, "requests": [{"path": "/"}]}, "$.requests[0].path"),
    ("nothing to request", {"users": 1}, "$.requests"),
    ("ftp target", plan(target="ftp://127.0.0.1/"), "$.target"),
    ("target with user info", plan(target="http://u:p@127.0.0.1/"), "$.target"),
    ("target with a space", plan(target="http://127.0.0.1/a b"), "$.target"),
    ("target port 0", plan(target="http://127.0.0.1:0/"), "$.target"),
    ("templated host", with_step({"url": "http://{{user}}.example/"}), STEP0 + ".url"),
    ("threshold unknown metric", plan(thresholds={"http.p96": "<1s"}),
     '$.thresholds["http.p96"]'),
    ("threshold unknown scope", plan(thresholds={"tcp.p95": "<1s"}), '$.thresholds["tcp.p95"]'),
    ("checks threshold on latency", plan(thresholds={"checks.p95": "<1s"}),
     '$.thresholds["checks.p95"]'),
    ("pass_rate on http", plan(thresholds={"http.pass_rate": ">99%"}),
     '$.thresholds["http.pass_rate"]'),
    ("empty step name in threshold", plan(thresholds={"step:.p95": "<1s"}),
     '$.thresholds["step:.p95"]'),
    ("threshold without comparison", plan(thresholds={"http.p95": "250ms"}),
     '$.thresholds["http.p95"]'),
    ("delay without abort_on_fail", plan(thresholds={"http.p95": {"condition": "<1s",
                                                                   "delay": "10s"}}),
     '$.thresholds["http.p95"].delay'),
    ("threshold object without condition", plan(thresholds={"http.p95": {"abort_on_fail": True}}),
     '$.thresholds["http.p95"].condition'),
    ("plan is an array", [B], "$"),
]


class Schema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = load_schema()
        cls.validator = jsonschema.Draft202012Validator(cls.schema)
        cls.loadctl = Loadctl()

    @classmethod
    def tearDownClass(cls):
        cls.loadctl.close()

    def schema_errors(self, instance):
        return [f"{e.json_path}: {e.message}"[:300] for e in self.validator.iter_errors(instance)]

    def test_schema_is_draft_2020_12_and_documents_every_field(self):
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self.assertEqual(self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        self.assertTrue(self.schema.get("$id"))
        walker = Walker(self.schema)
        walker.walk(self.schema)
        self.assertGreater(len(walker.found), 60)
        missing = []
        for chain, container, key, prop in walker.found:
            where = path_of(chain, key)
            for word in ("title", "description", "examples"):
                if not prop.get(word):
                    missing.append(f"{where}: no {word}")
            if not dict_examples(container):
                missing.append(f"{where}: the object holding it has no object examples")
            if container.get("additionalProperties") is not False:
                missing.append(f"{where}: the object holding it allows unknown fields")
        for name, node in self.schema["$defs"].items():
            for word in ("title", "description"):
                if not node.get(word):
                    missing.append(f"$defs/{name}: no {word}")
        self.assertEqual(missing, [])

    def test_examples_pass_schema_and_loadctl(self):
        names = sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".json"))
        self.assertGreaterEqual(len(names), 4)
        for name in names:
            with self.subTest(example=name):
                path = os.path.join(EXAMPLES, name)
                with open(path) as f:
                    self.assertEqual(self.schema_errors(json.load(f)), [])
                code, out = self.loadctl.validate_file(path)
                self.assertEqual(code, 0, out)

    def test_invalid_plans_are_refused_by_schema_and_loadctl(self):
        self.assertGreater(len(INVALID), 60)
        for what, bad, path in INVALID:
            with self.subTest(what):
                self.assertFalse(self.validator.is_valid(bad),
                                 f"the schema accepts: {json.dumps(bad)[:300]}")
                code, out = self.loadctl.validate(bad)
                self.assertNotEqual(code, 0, f"loadctl accepts: {json.dumps(bad)[:300]}")
                self.assertIn(path, out, f"loadctl's message does not name {path}")

    def test_every_schema_property_example_passes_loadctl(self):
        """The sync walk: schema examples -> minimal plans -> loadctl."""
        walker = Walker(self.schema)
        walker.walk(self.schema)
        plans = {}  # plan JSON -> the property paths it stands for
        unplaceable = []
        for chain, container, key, prop in walker.found:
            where = path_of(chain, key)
            for value in prop.get("examples", []):
                built = next((p for p in candidate_plans(chain, container, key, value)
                              if self.validator.is_valid(p)), None)
                if built is None:
                    unplaceable.append(f"{where} = {json.dumps(value)}")
                    continue
                plans.setdefault(json.dumps(built, sort_keys=True), []).append(
                    f"{where} = {json.dumps(value)}")
        self.assertEqual(unplaceable, [], "examples that fit no plan the schema accepts: fix "
                         "the example or the examples of the objects around it")
        self.assertGreater(len(plans), 60)
        refused = []
        for text, uses in plans.items():
            code, out = self.loadctl.validate(json.loads(text))
            if code != 0:
                refused.append(f"{uses[0]}: {out} (plan {text[:400]})")
        self.assertEqual(refused, [], "the schema accepts these plans, loadctl validate does not")

    def test_parser_knows_exactly_the_schema_properties(self):
        """The other direction of the sync: for every object of the schema, an
        unknown field there makes loadctl list the fields the parser knows at
        that place; they must be the schema's properties, no more, no less."""
        walker = Walker(self.schema)
        walker.walk(self.schema)
        marker = "zz_not_a_field"
        containers = {}
        for chain, container, _, _ in walker.found:
            # Objects in the same place (stages of users or of rates) differ
            # by their properties.
            where = path_of(chain, marker)
            containers.setdefault((where, tuple(sorted(container["properties"]))),
                                  (chain, container))
        self.assertGreater(len(containers), 18)
        mismatched = []
        for (where, _), (chain, container) in sorted(containers.items()):
            built = None
            for candidate in candidate_plans(chain, container, marker, 1):
                if self.validator.is_valid(without_key(candidate, marker)):
                    built = candidate
                    break
            if built is None:
                mismatched.append(f"{where}: no plan the schema accepts around this object")
                continue
            code, out = self.loadctl.validate(built)
            m = re.search(re.escape(marker) + r": unknown field \(known fields here: ([^)]*)\)",
                          out)
            if code == 0 or m is None:
                mismatched.append(f"{where}: loadctl did not refuse the unknown field: {out}")
                continue
            parser = set(m.group(1).split(", "))
            schema = set(container["properties"])
            if parser != schema:
                mismatched.append(f"{where}: only the parser knows {sorted(parser - schema)}, "
                                  f"only the schema knows {sorted(schema - parser)}")
        self.assertEqual(mismatched, [])

    def test_fields_in_doc_tables_exist_in_schema(self):
        walker = Walker(self.schema)
        walker.walk(self.schema)
        everywhere = {key for _, _, key, _ in walker.found}
        checked = 0
        for doc in DOCS:
            with open(doc) as f:
                lines = f.read().splitlines()
            for i, line in enumerate(lines):
                # A table whose first column is headed "... field".
                head = [c.strip() for c in line.strip().strip("|").split("|")]
                if not line.startswith("|") or "field" not in head[0]:
                    continue
                if i + 1 >= len(lines) or not re.match(r"^\|[-| :]+\|$", lines[i + 1].strip()):
                    continue
                for row in lines[i + 2:]:
                    if not row.startswith("|"):
                        break
                    cell = row.strip().strip("|").split("|")[0]
                    for name in re.findall(r"`([^`]+)`", cell):
                        if not re.fullmatch(r"[a-z_]+", name):
                            continue
                        checked += 1
                        self.assertIn(name, everywhere,
                                      f"{os.path.basename(doc)} documents `{name}` "
                                      f"({row.strip()[:80]}), the schema has no such property")
        self.assertGreater(checked, 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
