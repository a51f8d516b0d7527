// The real `updraft` binary, as a user runs it: exit codes, JSON output, and errors without stacks.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UPDRAFT_BIN, cleanupTempDirs, copyFixture, tempDir } from "../helpers.js";

let home: string;
let good: string;
let bad: string;

function updraft(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    UPDRAFT_HOME: home,
    UPDRAFT__CORE__DAG_FILE_PROCESSOR_TIMEOUT: "10",
  };
  delete env["UPDRAFT__CORE__DAGS_FOLDER"];
  delete env["UPDRAFT_DEBUG"];
  const r = spawnSync(process.execPath, [UPDRAFT_BIN, ...args], { env, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  home = tempDir();
  good = copyFixture("dags-good");
  bad = tempDir();
  writeFileSync(join(bad, "throws.ts"), '// updraft\nconst x = 1;\nthrow new Error("no config for " + x);\n');
  writeFileSync(join(bad, "syntax.ts"), "// updraft\nconst = 2;\n");
});
afterAll(() => cleanupTempDirs());

describe("updraft dags list", () => {
  it("prints the DAGs as JSON with snake_case keys", () => {
    const r = updraft("dags", "list", "--dags-folder", good, "--output", "json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const dags = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(dags.map((d) => d["dag_id"])).toEqual(["example", "reporting"]);
    expect(dags[0]).toEqual({
      dag_id: "example",
      fileloc: join(good, "example.ts"),
      schedule: "@daily",
      tags: ["x"],
      owners: expect.any(Array),
    });
  });

  it("prints an aligned table and summarizes import errors on stderr", () => {
    const r = updraft("dags", "list", "--dags-folder", bad);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No DAGs found.");
    expect(r.stderr).toContain("2 DAG files failed to import");
  });

  it("shows an asset schedule as its condition, not None", () => {
    const folder = tempDir();
    writeFileSync(
      join(folder, "on_assets.ts"),
      `import { and, asset, dag, task } from "updraft";
const a = asset("s3://lake/a");
const b = asset("s3://lake/b");
export const onBoth = dag({ dagId: "on_both", schedule: [and(a, b)] }, () => { task("t", () => 1)(); });
export const orDaily = dag({ dagId: "or_daily", schedule: { timetable: "@daily", assets: [a] }, startDate: "2026-01-01" }, () => { task("t", () => 1)(); });
`,
    );
    const r = updraft("dags", "list", "--dags-folder", folder);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/on_both\s+Asset: s3:\/\/lake\/a & s3:\/\/lake\/b\s/);
    expect(r.stdout).toMatch(/or_daily\s+Asset: s3:\/\/lake\/a or @daily\s/);
  });

  it("fails clearly for a missing folder", () => {
    const r = updraft("dags", "list", "--dags-folder", join(home, "nope"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: The DAGs folder .* does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("updraft dags list-import-errors", () => {
  it("prints filename and error as JSON", () => {
    const r = updraft("dags", "list-import-errors", "--dags-folder", bad, "--output", "json");
    expect(r.code).toBe(0);
    const errors = JSON.parse(r.stdout) as { filename: string; error: string }[];
    expect(errors.map((e) => e.filename)).toEqual([join(bad, "syntax.ts"), join(bad, "throws.ts")]);
    expect(errors[1]?.error).toContain("no config for 1");
    expect(Object.keys(errors[0] ?? {})).toEqual(["filename", "error"]);
  });
});

describe("updraft dags show", () => {
  it("prints the serialized DAG as JSON", () => {
    const r = updraft("dags", "show", "example", "--dags-folder", good, "--output", "json");
    expect(r.code).toBe(0);
    const dag = JSON.parse(r.stdout) as {
      dag_id: string;
      tasks: { task_id: string; upstream_task_ids: string[] }[];
    };
    expect(dag.dag_id).toBe("example");
    expect(dag.tasks.find((t) => t.task_id === "hello")?.upstream_task_ids).toEqual(["start"]);
  });

  it("prints a readable graph", () => {
    const r = updraft("dags", "show", "example", "--dags-folder", good);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("DAG example");
    expect(r.stdout).toMatch(/start \(EmptyOperator\)\n\s+└── hello \(BashOperator\)/);
    expect(r.stdout).toMatch(/hello\s+BashOperator\s+all_success\s+\d+\s+start/);
  });

  it("names an unknown DAG and suggests close ids", () => {
    const r = updraft("dags", "show", "exampel", "--dags-folder", good);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DAG "exampel" was not found');
    expect(r.stderr).toContain('Did you mean "example"?');
    expect(r.stderr).toContain("[DAG_NOT_FOUND]");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("updraft dags validate", () => {
  it("exits 0 for a valid folder", () => {
    const r = updraft("dags", "validate", good);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("OK: 2 DAGs in 2 files");
  });

  it("exits 1 and prints file:line: message for a broken file", () => {
    const r = updraft("dags", "validate", join(bad, "throws.ts"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(bad, "throws.ts")}:3: no config for 1`);
  });
});
