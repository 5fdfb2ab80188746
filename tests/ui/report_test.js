// Opens a report of `loadctl report --format html` in headless Chromium with
// every network request refused, and checks its charts are drawn from the
// embedded run: three uPlot canvases with pixels on them, one point per
// second of the run's timeline, and the endpoint table. Saves a screenshot.
//
//   node report_test.js REPORT.html ARTIFACTS
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { launch, waitFor } = require("./browser");

// Non-transparent pixels of the chart's plot canvas.
async function inkedPixels(page, chart) {
  return page.$eval(chart + " canvas", (canvas) => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
    return n;
  });
}

async function main() {
  const [report, artifacts] = process.argv.slice(2);
  assert.ok(report && artifacts, "usage: node report_test.js REPORT.html ARTIFACTS");
  fs.mkdirSync(artifacts, { recursive: true });
  const html = fs.readFileSync(report, "utf8");
  const run = JSON.parse(html.match(/<script type="application\/json" id="run-data">(.*?)<\/script>/s)[1]);

  const { browser, page, problems } = await launch();
  const requests = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:")) return route.continue();
    requests.push(url);
    return route.abort();
  });
  try {
    await page.goto("file://" + path.resolve(report));
    await waitFor(async () => (await page.getAttribute("body", "data-charts-ready")) === "1",
                  "report.js to draw the charts");
    const seconds = run.timeline.length;
    assert.ok(seconds >= 2, "the run has fewer than 2 seconds of timeline");
    for (const chart of ["#chart-rps", "#chart-latency", "#chart-errors"]) {
      assert.equal(Number(await page.getAttribute(chart, "data-points")), seconds, chart);
      const inked = await inkedPixels(page, chart);
      assert.ok(inked > 500, `${chart} looks blank (${inked} pixels drawn)`);
    }
    const rows = await page.$$eval("#endpoints tbody tr td:first-child", (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(rows, run.endpoints.map((e) => e.name).concat(run.endpoints.length === 1 ? [] : ["Aggregated"]));
    assert.match(await page.title(), new RegExp(run.id));
    await page.screenshot({ path: path.join(artifacts, "html-report.png"), fullPage: true });
    assert.deepEqual(requests, [], "the report asked the network for something");
    assert.deepEqual(problems, [], "the report logged errors");
    console.log(`report ok: ${seconds} seconds charted, screenshot in ${artifacts}`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
