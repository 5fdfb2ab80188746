// Drives the coordinator's dashboard in headless Chromium: sign in (a wrong
// token first), see the fleet, start a run against `loadd target` from the
// form, watch the charts grow, download the run's JSON, stop the run.
// Screenshots go to ARTIFACTS. Run by tests/e2e/test_dashboard.py, which
// starts the fleet; exits non-zero with the reason when a check fails.
//
//   node dashboard_test.js REST_URL TARGET_URL ARTIFACTS   (token in LOADD_TOKEN)
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { launch, waitFor } = require("./browser");

async function points(page, chart) {
  return Number(await page.getAttribute(chart, "data-points"));
}

async function main() {
  const [rest, target, artifacts] = process.argv.slice(2);
  const token = process.env.LOADD_TOKEN;
  assert.ok(rest && target && artifacts && token, "usage: see the header of dashboard_test.js");
  fs.mkdirSync(artifacts, { recursive: true });
  const shot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

  const { browser, page, problems } = await launch();
  const runPolls = [];  // the page's GET /v1/runs/{id} URLs
  page.on("request", (r) => {
    if (/\/v1\/runs\/[^/]+\?/.test(r.url())) runPolls.push(r.url());
  });
  try {
    await page.goto(rest + "/");
    await page.waitForSelector("#message:not([hidden])");
    assert.match(await page.textContent("#message"), /token/);

    // A wrong token: a clear message, nothing shown.
    await page.fill("#token", "not-the-token-0123456789");
    await page.click("#login");
    await waitFor(async () => /401/.test(await page.textContent("#message")), "the 401 message");
    assert.match(await page.textContent("#message"), /refused the token/);
    await shot(page, "01-wrong-token.png");

    await page.fill("#token", token);
    await page.click("#login");
    await waitFor(async () => (await page.$$("#workers tbody tr")).length === 2,
                  "the workers table to list 2 workers");
    assert.match(await page.textContent("#fleet-summary"), /2 workers, 2 live/);
    await shot(page, "02-fleet.png");

    await page.fill("#start-name", "dashboard e2e <b>not bold</b>");
    await page.fill("#start-target", target + "/delay/5ms");
    await page.fill("#start-users", "4");
    await page.fill("#start-duration", "60s");
    await page.click("#start");
    await waitFor(async () => (await page.textContent("#run-state")) === "running",
                  "the run to be running", 15000);
    const runId = await page.textContent("#run-id");
    assert.match(runId, /^r/);
    // The name is shown as text, never as markup.
    await waitFor(async () => /<b>not bold<\/b>/.test(await page.textContent("#run-info")),
                  "the run's name as text");
    assert.equal(await page.$("#run-info b"), null);

    // The charts are drawn and their data grows between two samples.
    for (const chart of ["#chart-rps", "#chart-latency", "#chart-errors"]) {
      assert.ok(await page.$(chart + " canvas"), chart + " has no canvas");
    }
    await waitFor(async () => (await points(page, "#chart-rps")) >= 2, "2 seconds of timeline", 15000);
    const before = await points(page, "#chart-rps");
    const epBefore = await points(page, "#chart-ep-rps");
    await page.waitForTimeout(2500);
    await waitFor(async () => (await points(page, "#chart-rps")) > before,
                  "the requests/s chart to grow past " + before + " points", 10000);
    assert.ok((await points(page, "#chart-latency")) > before, "the latency chart did not grow");
    assert.ok((await points(page, "#chart-ep-rps")) > epBefore, "the endpoint chart did not grow");
    const after = await points(page, "#chart-rps");
    const requests = Number(await page.textContent("#endpoints tbody tr td:nth-child(2)"));
    assert.ok(requests > 0, "no requests in the endpoint table");
    await shot(page, "03-running.png");

    // The report download: the run's JSON, fetched with the token.
    const [download] = await Promise.all([page.waitForEvent("download"),
                                          page.click("#download-json")]);
    const saved = path.join(artifacts, "run.json");
    await download.saveAs(saved);
    assert.equal(JSON.parse(fs.readFileSync(saved, "utf8")).id, runId);

    // Live scaling: 4 -> 6 users, listed as the run's event.
    assert.equal(await page.textContent("#scale-unit"), "users");
    await page.fill("#scale-value", "6");
    await page.click("#scale");
    await waitFor(async () => /Scaling run .* to 6 users/.test(await page.textContent("#message")),
                  "the scale message");
    await waitFor(async () => /users 4 \u2192 6/.test(await page.textContent("#run-events")),
                  "the scale event in the run's events", 10000);

    await page.click("#stop");
    await waitFor(async () => (await page.textContent("#run-state")) === "stopped",
                  "the run's state to become stopped", 20000);
    await waitFor(async () => {
      const row = await page.$(`#runs tbody tr[data-run-id="${runId}"] td:nth-child(3)`);
      return row !== null && (await row.textContent()) === "stopped";
    }, "the history to list the run as stopped");
    assert.ok(await page.isDisabled("#stop"), "Stop stays enabled on a stopped run");
    assert.ok(await page.isDisabled("#scale"), "Scale stays enabled on a stopped run");
    // The page asked only for new seconds (?since=) and holds every second of
    // the run's timeline once: as many points as the coordinator has seconds.
    assert.ok(runPolls.some((u) => new RegExp("/v1/runs/" + runId + "\\?since=[1-9]").test(u)),
              "the page never asked for only the new seconds: " + runPolls.slice(-3).join(" "));
    const full = await (await fetch(rest + "/v1/runs/" + runId,
                                    { headers: { Authorization: "Bearer " + token } })).json();
    await waitFor(async () => (await points(page, "#chart-rps")) === full.timeline.length,
                  "the chart to hold the run's " + full.timeline.length + " seconds", 5000);
    await shot(page, "04-stopped.png");

    // The HdrHistogram log download.
    const [hlog] = await Promise.all([page.waitForEvent("download"), page.click("#download-hlog")]);
    const hlogPath = path.join(artifacts, "run.hlog");
    await hlog.saveAs(hlogPath);
    assert.match(fs.readFileSync(hlogPath, "utf8"), /Histogram log format version/);

    // An uploaded plan: a bad one gets the coordinator's message with the
    // field at fault; a good one starts a run, which Stop stops.
    const upload = (plan) => page.setInputFiles("#plan-file", {
      name: "plan.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(plan)) });
    await upload({ name: "bad", target: target + "/", users: -5, duration: "30s" });
    await page.click("#start-plan");
    await waitFor(async () => /HTTP 400.*\(at \$\.users\)/.test(await page.textContent("#message")),
                  "the 400 message naming $.users");
    await shot(page, "05-bad-plan.png");
    await upload({ name: "uploaded plan", target: target + "/delay/5ms", users: 2, duration: "60s" });
    await page.click("#start-plan");
    await waitFor(async () => (await page.textContent("#run-id")) !== runId &&
                              (await page.textContent("#run-state")) === "running",
                  "the uploaded plan's run to be running", 15000);
    assert.match(await page.textContent("#run-info"), /^uploaded plan · /);
    await page.click("#stop");
    await waitFor(async () => (await page.textContent("#run-state")) === "stopped",
                  "the uploaded plan's run to stop", 20000);

    // Chromium logs every 4xx answer; the 401 and 400 above were asked for.
    const expected = /^Failed to load resource: the server responded with a status of 40[01]/;
    assert.deepEqual(problems.filter((p) => !expected.test(p)), [],
                     "the page logged errors (CSP violations, exceptions)");
    console.log(`dashboard ok: run ${runId}, ${before} -> ${after} ` +
                `timeline points, screenshots in ${artifacts}`);
  } catch (err) {
    await shot(page, "failure.png").catch(() => {});
    throw err;
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
