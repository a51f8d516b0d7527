// Declaring SQL, HTTP and sensor operators (what the DAG processor does with every file) loads
// neither `pg` nor src/hooks/ (decision 0029); the hooks' module does (the control shows that the
// recording works). Needs dist/.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, PACKAGE_ROOT } from "../helpers.js";
import { declareAndLoad, SDK } from "../lazy-imports.js";

const RUNTIME = join(PACKAGE_ROOT, "dist", "hooks", "index.js");
const WATCHED = ["/node_modules/pg/", "/dist/hooks/"];
const DECLARATIONS = `
  new sdk.SQLExecuteQueryOperator({ taskId: "q", connId: "w", sql: "select 1" });
  new sdk.SQLCheckOperator({ taskId: "c", connId: "w", sql: "select 1" });
  new sdk.HttpOperator({ taskId: "h", endpoint: "/x" });
  new sdk.HttpSensor({ taskId: "s", endpoint: "/x" });
  new sdk.SqlSensor({ taskId: "ss", sql: "select 1" });
  sdk.task("t", async (ctx) => ctx.hooks.postgres("w").query("select 1"))();`;

afterAll(() => cleanupTempDirs());

describe("hooks load only when a task uses them", () => {
  it("declaring the operators loads neither pg nor src/hooks/; the hooks' module loads pg", () => {
    expect(existsSync(SDK), "run `npm run build -w updraft` first: this test imports dist/").toBe(true);
    const declared = declareAndLoad(DECLARATIONS, WATCHED);
    expect(declared.stdout).toContain("declared");
    expect(declared.stderr).not.toContain("LOADED");
    const executed = declareAndLoad(DECLARATIONS, WATCHED, RUNTIME);
    expect(executed.stderr).toContain("/dist/hooks/index.js");
    expect(executed.stderr).toContain("/node_modules/pg/");
  });
});
