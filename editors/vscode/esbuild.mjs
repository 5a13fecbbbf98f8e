// Bundles src/extension.ts and its dependencies (vscode-languageclient) into dist/extension.js.
import { existsSync } from "fs";
import { dirname, resolve } from "path";
import { fileURLToPath } from "url";
import { build } from "esbuild";

const production = process.argv.includes("--production");

// A development build names the checkout it is built from: the "cannot start the server"
// notification tells the user to install the server from it (tierline is not on PyPI). The
// packaged extension (.vsix, --production) carries no path of the machine that built it.
const checkout = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const define =
  !production && existsSync(resolve(checkout, "pyproject.toml")) ? { TIERLINE_CHECKOUT: JSON.stringify(checkout) } : {};

if (process.argv.includes("--tests")) {
  // Unit tests of the pure modules, run by `node --test dist-test/` (shapes.test.js needs the
  // shapes from tests/e2e/test_wire_shapes.py).
  await build({
    entryPoints: [
      "test/unit.test.ts",
      "test/shapes.test.ts",
      "test/acceptance.test.ts",
      "test/eagerness.test.ts",
      "test/lifecycle.test.ts",
    ],
    bundle: true,
    outdir: "dist-test",
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
    logLevel: "warning",
  });
  process.exit(0);
}

await build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
  define,
  sourcemap: production ? false : "inline",
  minify: production,
  logLevel: "info",
});
