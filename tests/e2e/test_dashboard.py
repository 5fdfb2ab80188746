"""The web dashboard and the HTML report in headless Chromium (tests/ui:
playwright-core driving Debian's chromium). The dashboard starts a run
against `loadd target`, its charts grow, Stop stops it; `loadctl report
--format html` renders its charts with no network. Screenshots go to
LOADD_BIN_DIR/test-artifacts/."""

import json
import os
import re
import subprocess
import unittest
import urllib.error
import urllib.request

from fleet import BIN_DIR, TOKEN, Fleet, http

UI_DIR = os.path.join(os.path.dirname(__file__), "..", "ui")
ARTIFACTS = os.path.join(os.path.abspath(BIN_DIR), "test-artifacts")
CHROMIUM = os.environ.get("LOADD_CHROMIUM", "/usr/bin/chromium")


def node(script, *args, timeout=60):
    """Runs a tests/ui script; the token reaches it in LOADD_TOKEN."""
    return subprocess.run(["node", script] + list(args), cwd=UI_DIR,
                          env=dict(os.environ, LOADD_TOKEN=TOKEN),
                          capture_output=True, text=True, timeout=timeout)


def get(url, headers=None):
    """(status, headers, body bytes) of a GET without the token."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class StaticFiles(unittest.TestCase):
    """The dashboard's files: served without the token, with their types,
    revalidation and a Content-Security-Policy; the API still needs it."""

    def test_files_are_open_and_the_api_is_not(self):
        with Fleet(workers=1) as f:
            cases = [("/", "text/html; charset=utf-8", b"<!DOCTYPE html>"),
                     ("/ui/app.js", "text/javascript; charset=utf-8", b"LoaddCharts"),
                     ("/ui/uPlot.iife.min.js", "text/javascript; charset=utf-8", b"uPlot"),
                     ("/ui/uPlot.min.css", "text/css; charset=utf-8", b".uplot"),
                     ("/ui/style.css", "text/css; charset=utf-8", b"body")]
            for path, content_type, snippet in cases:
                status, headers, body = get(f.rest + path)
                self.assertEqual(status, 200, path)
                self.assertEqual(headers["Content-Type"], content_type, path)
                self.assertIn(snippet, body, path)
                self.assertIn("default-src 'self'", headers["Content-Security-Policy"], path)
                self.assertEqual(headers["X-Content-Type-Options"], "nosniff", path)
                self.assertEqual(headers["Cache-Control"], "no-cache", path)
                status, _, body = get(f.rest + path, {"If-None-Match": headers["ETag"]})
                self.assertEqual((status, body), (304, b""), path)
            # The page loads nothing from elsewhere and runs no inline script.
            html = get(f.rest + "/")[2].decode()
            links = re.findall(r'(?:src|href)="([^"]*)"', html)
            self.assertEqual(len(links), 5, links)
            self.assertTrue(all(link.startswith("ui/") for link in links), links)
            self.assertEqual(html.count("<script"), html.count("<script src="))
            # Any other name needs the token (docs/rest-api.md), then is a 404.
            self.assertEqual(get(f.rest + "/ui/nope.js")[0], 401)
            status, reply = http("GET", f.rest + "/ui/nope.js")
            self.assertEqual(status, 404)
            self.assertIn("no such dashboard file: nope.js", reply["error"]["message"])
            for path in ("/v1/workers", "/v1/runs", "/index.html", "/ui/x/../app.js"):
                self.assertEqual(http("GET", f.rest + path, token=None)[0], 401, path)
            # Only GETs are open: a stranger's body is refused before it is read.
            self.assertEqual(http("POST", f.rest + "/ui/app.js", "x" * 1000, token=None)[0], 401)
            self.assertEqual(http("GET", f.rest + "/v1/workers")[0], 200)


@unittest.skipUnless(os.path.isdir(os.path.join(UI_DIR, "node_modules", "playwright-core"))
                     and os.path.exists(CHROMIUM),
                     "tests/ui or chromium not installed: run scripts/install-deps.sh")
class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fleet = Fleet(workers=2).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.fleet.__exit__(None, None, None)

    def test_dashboard_starts_watches_and_stops_a_run(self):
        f = self.fleet
        r = node("dashboard_test.js", f.rest, f.target_url, os.path.join(ARTIFACTS, "dashboard"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        print(r.stdout.strip())

    def test_html_report_renders_its_charts_offline(self):
        f = self.fleet
        r = f.loadctl("start", "--users", "4", "--duration", "3s", "--target",
                      f.target_url + "/delay/2ms", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        run_id = json.loads(r.stdout)["id"]
        out = os.path.join(ARTIFACTS, "report", run_id + ".html")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = f.loadctl("report", run_id, "--format", "html", "--out", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = node("report_test.js", out, os.path.dirname(out))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        print(r.stdout.strip())


if __name__ == "__main__":
    unittest.main(verbosity=2)
