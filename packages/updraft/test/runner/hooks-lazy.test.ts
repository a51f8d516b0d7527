// Declaring SQL, HTTP and sensor operators (what the DAG processor does with every file) loads
// neither `pg` nor src/hooks/ (decision 0029); the hooks' module does (the control shows that the
// recording works). Needs dist/.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, PACKAGE_ROOT, tempDir } from "../helpers.js";

const HOOK = fileURLToPath(new URL("../fixtures/hooks/record-imports.mjs", import.meta.url));
const SDK = join(PACKAGE_ROOT, "dist", "index.js");
const RUNTIME = join(PACKAGE_ROOT, "dist", "hooks", "index.js");

const SCRIPT = `const sdk = await import(process.argv[2]);
sdk.dag({ dagId: "lazy" }, () => {
  new sdk.SQLExecuteQueryOperator({ taskId: "q", connId: "w", sql: "select 1" });
  new sdk.SQLCheckOperator({ taskId: "c", connId: "w", sql: "select 1" });
  new sdk.HttpOperator({ taskId: "h", endpoint: "/x" });
  new sdk.HttpSensor({ taskId: "s", endpoint: "/x" });
  new sdk.SqlSensor({ taskId: "ss", sql: "select 1" });
  sdk.task("t", async (ctx) => ctx.hooks.postgres("w").query("select 1"))();
});
console.log("declared");
if (process.argv[3]) await import(process.argv[3]);
`;

function run(...modules: string[]): { stdout: string; stderr: string } {
  const script = join(tempDir("updraft-hooks-lazy-"), "declare.mjs");
  writeFileSync(script, SCRIPT);
  const r = spawnSync(process.execPath, ["--import", HOOK, script, ...modules], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => cleanupTempDirs());

describe("hooks load only when a task uses them", () => {
  it("declaring the operators loads neither pg nor src/hooks/; the hooks' module loads pg", () => {
    expect(existsSync(SDK), "run `npm run build -w updraft` first: this test imports dist/").toBe(true);
    const declared = run(SDK);
    expect(declared.stdout).toContain("declared");
    expect(declared.stderr).not.toContain("LOADED");
    const executed = run(SDK, RUNTIME);
    expect(executed.stderr).toContain("/dist/hooks/index.js");
    expect(executed.stderr).toContain("/node_modules/pg/");
  });
});
