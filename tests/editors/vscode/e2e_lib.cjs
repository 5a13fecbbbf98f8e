// Shared by run_host_tests.cjs and ui_test.cjs: headless Chromium through playwright-core
// (never downloads a browser: it drives Debian's /usr/bin/chromium).
"use strict";
const fs = require("fs");
const path = require("path");

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set (run through test_vscode.py)`);
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

module.exports = { env, launch, finish, outputPath };
