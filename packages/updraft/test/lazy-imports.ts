// Shows which modules a DAG file's declarations load (the DAG processor evaluates every file, so
// heavy runtimes — the Kubernetes client, pg, hooks — must load only when a task runs). Runs a
// script in a fresh Node that declares a DAG with the built package (dist/), optionally imports a
// runtime module after, and reports every resolved module whose URL contains a watched substring.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT, tempDir } from "./helpers.js";

const HOOK = fileURLToPath(new URL("./fixtures/record-imports.mjs", import.meta.url));
export const SDK = join(PACKAGE_ROOT, "dist", "index.js");

/**
 * `declarations` is the body of `sdk.dag({ dagId: "lazy" }, () => { … })` using `sdk.` names.
 * Returns the script's stdout ("declared" once the DAG is declared) and stderr (LOADED lines).
 */
export function declareAndLoad(
  declarations: string,
  watched: readonly string[],
  runtime?: string,
): { stdout: string; stderr: string } {
  const script = join(tempDir("updraft-lazy-"), "declare.mjs");
  writeFileSync(
    script,
    `const sdk = await import(process.argv[2]);
sdk.dag({ dagId: "lazy" }, () => {
${declarations}
});
console.log("declared");
if (process.argv[3]) await import(process.argv[3]);
`,
  );
  const r = spawnSync(process.execPath, ["--import", HOOK, script, SDK, ...(runtime ? [runtime] : [])], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, UPDRAFT_TEST_WATCH: JSON.stringify(watched) },
  });
  return { stdout: r.stdout, stderr: r.stderr };
}
