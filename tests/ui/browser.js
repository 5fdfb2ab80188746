// Headless Chromium for the UI tests: the system's browser (Debian's
// chromium package), driven by playwright-core, which downloads nothing.
"use strict";

const { chromium } = require("playwright-core");

const EXECUTABLE = process.env.LOADD_CHROMIUM || "/usr/bin/chromium";

// A browser and a page; `problems` collects the page's console errors and
// uncaught exceptions (CSP violations are console errors).
async function launch() {
  const browser = await chromium.launch({
    executablePath: EXECUTABLE,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                             acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(msg.text()); });
  page.on("pageerror", (err) => problems.push(String(err)));
  return { browser, page, problems };
}

// Polls `check` every 100 ms until it returns true; throws naming `what`.
async function waitFor(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { launch, waitFor, EXECUTABLE };
