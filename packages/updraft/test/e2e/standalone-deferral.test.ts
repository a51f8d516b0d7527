// `updraft standalone` runs a deferrable sensor: its try defers (its runner exits), the
// standalone's own triggerer fires it, and the task resumes and succeeds in the same try.
// Needs dist/ (npm run build).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Daemon, eventually, updraft } from "./helpers.js";

const home = mkdtempSync(join(tmpdir(), "updraft-e2e-standalone-deferral-"));
const folder = mkdtempSync(join(tmpdir(), "updraft-e2e-standalone-deferral-dags-"));
const env = { UPDRAFT_HOME: home, UPDRAFT__CORE__DAGS_FOLDER: folder };
let daemon: Daemon | null = null;

afterAll(async () => {
  await daemon?.stop("SIGKILL");
});

describe("updraft standalone with a deferrable sensor", () => {
  test("the sensor defers, the triggerer fires, the task succeeds in its first try", async () => {
    writeFileSync(
      join(folder, "deferrable.ts"),
      `import { TimeDeltaSensor, dag } from "updraft";
export default dag({ dagId: "deferrable" }, () => {
  new TimeDeltaSensor({ taskId: "wait", delta: "8s", deferrable: true });
});
`,
    );
    daemon = new Daemon(["standalone", "--port", "0"], env);
    await daemon.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000);
    await daemon.waitFor(/first parse of the DAG folder finished/, 120_000);
    expect(updraft(["dags", "unpause", "deferrable"], env).code).toBe(0);
    const t = updraft(["dags", "trigger", "deferrable", "--run-id", "d1"], env);
    expect(t.code, t.stderr).toBe(0);
    // It waits deferred (no runner holds it) before it resumes.
    const seen = await eventually(
      () => {
        const r = updraft(["tasks", "states-for-dag-run", "deferrable", "d1", "--output", "json"], env);
        const s = (JSON.parse(r.stdout || "[]") as { state: string | null }[])[0]?.state;
        return s === "deferred" || s === "success" ? s : undefined;
      },
      60_000,
      "the sensor to defer",
    );
    expect(seen).toBe("deferred");
    const state = await eventually(
      () => {
        const s = updraft(["dags", "state", "deferrable", "d1"], env).stdout.trim();
        return s === "success" || s === "failed" ? s : undefined;
      },
      60_000,
      "the run to finish",
    );
    expect(state, daemon.output.slice(-3000)).toBe("success");
    const tis = JSON.parse(
      updraft(["tasks", "states-for-dag-run", "deferrable", "d1", "--output", "json"], env).stdout,
    ) as { state: string; try_number: number }[];
    expect(tis.map((x) => [x.state, x.try_number])).toEqual([["success", 1]]);
  }, 200_000);
});
