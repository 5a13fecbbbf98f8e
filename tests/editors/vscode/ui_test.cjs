// What a person sees: opens sample.py in code-server with the installed Tierline extension,
// types, waits for ghost text from the real tierline server + simulator, takes a screenshot with
// the ghost text and the status bar, accepts with Tab and reads the line back.
//
//   node ui_test.cjs   (configured by environment, see e2e_lib.cjs and vscode_harness.py)
"use strict";
const { finish, outputPath, inWorkbench, openSample } = require("./e2e_lib.cjs");

const GHOST = ".ghost-text-decoration, .ghost-text";
const STATUS = '.statusbar-item[id*="tierline"]';
const clean = (s) => (s || "").replace(/\u00a0/g, " ");

async function main() {
  await inWorkbench("ui", async ({ page, step, result }) => {
    step("workbench loaded");

    // The extension is up once its status bar item shows "tierline" without the spinner.
    const status = page.locator(STATUS).first();
    await status.waitFor({ timeout: 60000 });
    await page.waitForFunction(
      (sel) => {
        const el = document.querySelector(sel);
        return el && /tierline/.test(el.textContent) && !el.querySelector(".codicon-sync, .codicon-modifier-spin");
      },
      STATUS,
      { timeout: 60000 },
    );
    result.statusBefore = clean(await status.textContent());
    step(`status bar: ${result.statusBefore}`);

    await openSample(page);
    step("sample.py open");

    // Type at the end of main(): past the file's final newline, back onto the last line of
    // main(), then a new line (auto-indented inside the function).
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Enter");
    await page.keyboard.type("total = ", { delay: 40 });
    step("typed");

    const ghost = page.locator(GHOST).first();
    await ghost.waitFor({ state: "visible", timeout: 30000 });
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes("tl_")), GHOST, {
      timeout: 30000,
    });
    result.ghostText = clean(
      await page.$$eval(GHOST, (els) => els.map((e) => e.textContent).join("\n")),
    );
    step(`ghost text: ${result.ghostText}`);

    // didRoute updates the status bar (tier · model · latency · cost), stats add today's spend.
    await page.waitForFunction((sel) => / · .*\$[0-9].*today \$/.test(document.querySelector(sel)?.textContent || ""), STATUS, {
      timeout: 30000,
    });
    result.statusText = clean(await status.textContent());
    result.statusTooltip = clean(await status.getAttribute("aria-label"));
    step(`status bar: ${result.statusText}`);
    result.screenshot = outputPath("ghost-text.png");
    await page.screenshot({ path: result.screenshot });

    await page.keyboard.press("Tab");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".monaco-editor .view-line")].some((l) => /total = .*tl_/.test(l.textContent.replace(/\u00a0/g, " "))),
      null,
      { timeout: 15000 },
    );
    result.lines = await page.$$eval(".monaco-editor .view-line", (els) =>
      els.map((e) => e.textContent.replace(/\u00a0/g, " ")),
    );
    result.acceptedLine = result.lines.find((l) => /total = .*tl_/.test(l));
    // The accepted suggestion is gone (the server may already show the next one at the new cursor:
    // with no debounce it often does, so count only ghost text carrying the accepted answer's tag).
    const tag = (result.ghostText.match(/tl_\w+/) || [result.ghostText])[0];
    result.ghostAfterTab = await page.$$eval(GHOST, (els, t) => els.filter((e) => e.textContent.includes(t)).length, tag);
    result.screenshotAccepted = outputPath("accepted.png");
    await page.screenshot({ path: result.screenshotAccepted });
    step(`accepted: ${result.acceptedLine}`);

    // Clicking the status bar item opens the report webview (tables + SVG chart).
    await status.click();
    const report = page.frameLocator("iframe.webview").frameLocator("iframe");
    await report.locator("svg").first().waitFor({ timeout: 30000 });
    result.reportText = (await report.locator("body").innerText()).slice(0, 2000);
    result.screenshotReport = outputPath("report.png");
    await page.screenshot({ path: result.screenshotReport });
    step("report open");
  });
}

main().catch((err) => finish({ error: String((err && err.stack) || err) }, 2));
