// Bundles src/extension.ts and its dependencies (vscode-languageclient) into dist/extension.js.
import { build } from "esbuild";

const production = process.argv.includes("--production");

if (process.argv.includes("--tests")) {
  // Unit tests of the pure modules, run by `node --test dist-test/` (shapes.test.js needs the
  // shapes from tests/test_wire_shapes.py).
  await build({
    entryPoints: ["test/unit.test.ts", "test/shapes.test.ts"],
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
  sourcemap: production ? false : "inline",
  minify: production,
  logLevel: "info",
});
