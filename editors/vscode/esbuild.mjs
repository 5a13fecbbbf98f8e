// Bundles src/extension.ts and its dependencies (vscode-languageclient) into dist/extension.js.
import { existsSync } from "fs";
import { dirname, resolve } from "path";
import { fileURLToPath } from "url";
import { build } from "esbuild";

// The checkout this extension is built from: the "cannot start the server" notification tells the
// user to install the server from it (tierline is not on PyPI).
const checkout = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const define = existsSync(resolve(checkout, "pyproject.toml")) ? { TIERLINE_CHECKOUT: JSON.stringify(checkout) } : {};

const production = process.argv.includes("--production");

if (process.argv.includes("--tests")) {
  // Unit tests of the pure modules, run by `node --test dist-test/` (shapes.test.js needs the
  // shapes from tests/test_wire_shapes.py).
  await build({
    entryPoints: ["test/unit.test.ts", "test/shapes.test.ts", "test/acceptance.test.ts", "test/eagerness.test.ts"],
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
