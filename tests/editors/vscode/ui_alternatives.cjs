// Alternatives in real VS Code (code-server): an explicit request (Alt+\) at a position near a tier
// boundary brings the cheap and premium answers beside the chosen tier's, and VS Code's own cycling
// (Alt+], editor.action.inlineSuggest.showNext) shows another item: the extension passes them all.
// test_vscode_acceptance.py then checks the accepted one is counted under its own tier.
//
//   node ui_alternatives.cjs   (configured by environment, see e2e_lib.cjs)
"use strict";
const { finish, outputPath, inWorkbench, openSample } = require("./e2e_lib.cjs");

const GHOST = ".ghost-text-decoration, .ghost-text";
const clean = (s) => (s || "").replace(/\u00a0/g, " ");

async function ghost(page) {
  return clean(await page.$$eval(GHOST, (els) => els.map((e) => e.textContent).join("\n")));
}

async function main() {
  await inWorkbench("alternatives", async ({ page, step, result }) => {
    await page.locator('.statusbar-item[id*="tierline"]').first().waitFor({ timeout: 60000 });
    step("workbench and extension up");

    await openSample(page);
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("def total(values):", { delay: 40 });
    await page.keyboard.press("Enter"); // VS Code indents the body: the first line of a function body
    await page.keyboard.press("Alt+Backslash"); // Trigger Inline Suggestion: an explicit request
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes("tl_")), GHOST, {
      timeout: 30000,
    });
    result.first = await ghost(page);
    step(`first item: ${result.first}`);

    await page.keyboard.press("Alt+BracketRight"); // Show Next Inline Suggestion
    await page.waitForFunction(
      ({ sel, first }) => {
        const text = [...document.querySelectorAll(sel)].map((e) => e.textContent.replace(/\u00a0/g, " ")).join("\n");
        return text.includes("tl_") && text !== first;
      },
      { sel: GHOST, first: result.first },
      { timeout: 30000 },
    );
    result.second = await ghost(page);
    result.screenshot = outputPath("alternatives-next.png");
    await page.screenshot({ path: result.screenshot });
    step(`second item: ${result.second}`);

    await page.keyboard.press("Tab");
    await page.waitForFunction(
      (second) => [...document.querySelectorAll(".monaco-editor .view-line")].some((l) => l.textContent.replace(/\u00a0/g, " ").includes(second.split("\n")[0].trim())),
      result.second,
      { timeout: 15000 },
    );
    step("accepted the second item");
  });
}

main().catch((err) => finish({ error: String((err && err.stack) || err) }, 2));
