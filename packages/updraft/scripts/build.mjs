// Transpiles packages/updraft/src to dist file by file (no bundling), so the runtime layout mirrors
// the source and child processes can import single modules. Type checking is `tsc --noEmit`'s job.
import { build } from "esbuild";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const out = join(root, "dist");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".test-d.ts") ? [p] : [];
  });
}

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: walk(src),
  outdir: out,
  outbase: src,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  bundle: false,
  logLevel: "warning",
});
