// Runs suite/index.js inside code-server's extension host: opens a window whose payload names
// the extension under test (extensionDevelopmentPath) and the tests (extensionTestsPath); the
// tests' exit code comes back through window.codeAutomationExit (needs code-server started with
// `--vscode-option enable-smoke-test-driver`).
//
//   node run_host_tests.cjs   (configured by environment, see e2e_lib.cjs and vscode_harness.py)
"use strict";
const { env, launch, finish, outputPath } = require("./e2e_lib.cjs");

async function main() {
  const base = env("TIERLINE_E2E_URL"); // http://127.0.0.1:PORT
  const host = new URL(base).host;
  const payload = [
    ["extensionDevelopmentPath", `vscode-remote://${host}${env("TIERLINE_E2E_EXTENSION_DIR")}`],
    ["extensionTestsPath", `vscode-remote://${host}${env("TIERLINE_E2E_SUITE_DIR")}`],
    ["skipWelcome", "true"],
  ];
  const url = `${base}/?folder=${encodeURIComponent(env("TIERLINE_E2E_WORKSPACE"))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timeoutMs = Number(process.env.TIERLINE_E2E_TIMEOUT_MS || 240000);

  const context = await launch(env("TIERLINE_E2E_PROFILE"));
  const page = context.pages()[0] || (await context.newPage());
  const console = [];
  page.on("console", (m) => console.push(`[${m.type()}] ${m.text()}`.slice(0, 2000)));
  let exitCode;
  const exited = new Promise((resolve) => {
    void page.exposeFunction("codeAutomationExit", (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  const started = Date.now();
  await page.goto(url);
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  const screenshot = outputPath("host-tests.png");
  await page.screenshot({ path: screenshot }).catch(() => undefined);
  await context.close().catch(() => undefined);
  finish(
    {
      exitCode: outcome === "timeout" ? null : exitCode,
      timedOut: outcome === "timeout",
      ms: Date.now() - started,
      screenshot,
      console: console.filter((l) => /error|tierline|fail/i.test(l)).slice(-60),
    },
    outcome === "timeout" ? 3 : exitCode === 0 ? 0 : 1,
  );
}

main().catch((err) => finish({ error: String((err && err.stack) || err) }, 2));
