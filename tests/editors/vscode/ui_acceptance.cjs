// Accepting with Tab in real VS Code runs the item's tierline.accepted command: opens sample.py,
// types, waits for the ghost text, presses Tab, reads the line and the status bar (tier · model).
// test_vscode_acceptance.py then checks the server's stats count it accepted under that tier.
//
//   node ui_acceptance.cjs   (configured by environment, see e2e_lib.cjs)
"use strict";
const { finish, outputPath, inWorkbench, openSample } = require("./e2e_lib.cjs");

const GHOST = ".ghost-text-decoration, .ghost-text";
const STATUS = '.statusbar-item[id*="tierline"]';
const clean = (s) => (s || "").replace(/\u00a0/g, " ");

async function main() {
  await inWorkbench("acceptance", async ({ page, step, result }) => {
    await page.locator(STATUS).first().waitFor({ timeout: 60000 });
    step("workbench and extension up");

    await openSample(page);
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Backspace");
    await page.keyboard.press("Enter");
    await page.keyboard.type("accepted = ", { delay: 40 });
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes("tl_")), GHOST, {
      timeout: 30000,
    });
    result.ghostText = clean(await page.$$eval(GHOST, (els) => els.map((e) => e.textContent).join("\n")));
    // The route's tier and model reach the status bar with didRoute.
    await page.waitForFunction((sel) => / · /.test(document.querySelector(sel)?.textContent || ""), STATUS, { timeout: 30000 });
    result.statusText = clean(await page.locator(STATUS).first().textContent());
    step(`ghost ${result.ghostText}; status ${result.statusText}`);

    await page.keyboard.press("Tab");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".monaco-editor .view-line")].some((l) => /accepted = .*tl_/.test(l.textContent.replace(/\u00a0/g, " "))),
      null,
      { timeout: 15000 },
    );
    result.acceptedLine = (await page.$$eval(".monaco-editor .view-line", (els) => els.map((e) => e.textContent.replace(/\u00a0/g, " ")))).find(
      (l) => /accepted = .*tl_/.test(l),
    );
    result.screenshot = outputPath("accepted-with-tab.png");
    await page.screenshot({ path: result.screenshot });
    step(`accepted: ${result.acceptedLine}`);
  });
}

main().catch((err) => finish({ error: String((err && err.stack) || err) }, 2));
