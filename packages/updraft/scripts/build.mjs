// Transpiles packages/updraft/src to dist file by file (no bundling), so the runtime layout mirrors
// the source and child processes can import single modules. Type checking is `tsc --noEmit`'s job.
import { build } from "esbuild";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
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

// dist/ is overwritten in place, not deleted first: tests, benchmarks and a running standalone
// fork runners from it, and a build in another terminal must not pull it from under them.
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

// Outputs whose source is gone (a renamed or deleted module) are removed afterwards.
function prune(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      prune(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true, force: true });
      continue;
    }
    const base = p.slice(out.length).replace(/\.js(\.map)?$/, "");
    if (!existsSync(join(src, `${base}.ts`))) rmSync(p, { force: true });
  }
}
prune(out);
