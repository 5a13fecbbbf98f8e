// Shared by run_host_tests.cjs, ui_test.cjs and ui_acceptance.cjs: headless Chromium through playwright-core
// (never downloads a browser: it drives Debian's /usr/bin/chromium).
"use strict";
const fs = require("fs");
const path = require("path");

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set (run through vscode_harness.py)`);
  return value;
}

async function launch(profileDir) {
  const { chromium } = require(env("TIERLINE_PLAYWRIGHT_CORE"));
  fs.mkdirSync(profileDir, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath: env("TIERLINE_CHROMIUM"),
    headless: true,
    viewport: { width: 1400, height: 820 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Prints one JSON line the pytest side parses, then exits with `code`. */
function finish(result, code) {
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
  process.exit(code);
}

function outputPath(name) {
  const dir = env("TIERLINE_E2E_OUTPUT");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/**
 * Open the workspace in code-server in a fresh browser, run `body({ page, step, result })`, and
 * finish: exit 0 with the result, or 1 with the error and a screenshot named `<name>-failure.png`.
 */
async function inWorkbench(name, body) {
  const result = { steps: [] };
  const step = (m) => result.steps.push(`${new Date().toISOString()} ${m}`);
  const context = await launch(env("TIERLINE_E2E_PROFILE"));
  const page = context.pages()[0] || (await context.newPage());
  try {
    await page.goto(`${env("TIERLINE_E2E_URL")}/?folder=${encodeURIComponent(env("TIERLINE_E2E_WORKSPACE"))}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    await body({ page, step, result });
    await context.close();
    finish(result, 0);
  } catch (err) {
    result.error = String((err && err.stack) || err);
    result.failureScreenshot = outputPath(`${name}-failure.png`);
    await page.screenshot({ path: result.failureScreenshot }).catch(() => undefined);
    await context.close().catch(() => undefined);
    finish(result, 1);
  }
}

/** Open the workspace's sample.py with Quick Open and wait until its text is on screen. */
async function openSample(page) {
  await page.locator(".monaco-workbench").click({ position: { x: 700, y: 300 } }).catch(() => undefined);
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 30000 });
  await page.keyboard.type("sample.py");
  await page.waitForSelector('.quick-input-list .monaco-list-row[aria-label*="sample.py"]', { timeout: 30000 });
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    () => [...document.querySelectorAll(".monaco-editor .view-line")].some((l) => l.textContent.replace(/\u00a0/g, " ").includes("def main")),
    null,
    { timeout: 30000 },
  );
}

module.exports = { env, launch, finish, outputPath, inWorkbench, openSample };
