// One parse of a folder full of broken DAG files: each failure is reported against its own file
// (with a line where there is one) and never stops the other files from parsing.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDagFolder, type DagBag, type ImportError } from "../../src/processor/index.js";
import { cleanupTempDirs, copyFixture, tempDir } from "../helpers.js";

let folder: string;
let bag: DagBag;

function errorsOf(file: string): ImportError[] {
  return bag.importErrors.filter((e) => e.filename === join(folder, file));
}

beforeAll(async () => {
  folder = copyFixture("dags-bad");
  // These two do not compile, so they are written here rather than kept as type-checked fixtures.
  writeFileSync(
    join(folder, "syntax-error.ts"),
    "// updraft\nconst ok = 1;\nconst broken = ;\nexport { ok };\n",
  );
  writeFileSync(
    join(folder, "missing-module.ts"),
    '// updraft\nimport { something } from "no-such-package-for-updraft-tests";\n\nsomething();\n',
  );
  bag = await parseDagFolder(folder, {
    cacheDir: tempDir(),
    timeoutSeconds: 4,
    memoryCapMb: 128,
    parsingProcesses: 2,
  });
}, 60_000);

afterAll(() => cleanupTempDirs());

describe("a folder of broken DAG files", () => {
  it("reports a syntax error with the file and line", () => {
    const [err, ...rest] = errorsOf("syntax-error.ts");
    expect(rest).toEqual([]);
    expect(err?.line).toBe(3);
    expect(err?.error).toMatch(/Unexpected ";"/);
    expect(err?.error).toContain("line 3");
  });

  it("reports an exception thrown at import with its message and the user's line", () => {
    const [err] = errorsOf("throws.ts");
    expect(err?.error).toContain("settings.json is missing");
    expect(err?.line).toBe(3);
  });

  it("reports an import of a missing module at the import's line", () => {
    const [err] = errorsOf("missing-module.ts");
    expect(err?.error).toContain('Could not resolve "no-such-package-for-updraft-tests"');
    expect(err?.line).toBe(2);
  });

  it("stops a file that runs forever at the time limit", () => {
    const [err] = errorsOf("forever.ts");
    expect(err?.error).toBe(
      "DAG file took longer than 4s to evaluate and was stopped (core.dag_file_processor_timeout)",
    );
  });

  it("stops a file that exceeds the memory cap", () => {
    const [err] = errorsOf("memory-hog.ts");
    expect(err?.error).toMatch(/exceeded the memory cap of 128 MB/);
  });

  it("reports a file that ends its process", () => {
    const [err] = errorsOf("exits.ts");
    expect(err?.error).toMatch(/exited with code 3/);
  });

  it("still parses the good file", () => {
    expect(bag.dags.map((d) => d.dag_id)).toContain("survivor");
    expect(errorsOf("good.ts")).toEqual([]);
  });

  // The cases below depend on the SDK's validation (collect.ts).
  it("reports a DAG file that defines no DAG", () => {
    const [err] = errorsOf("no-dag.ts");
    expect(err?.error).toMatch(/no DAG/i);
  });

  it("reports a dependency cycle, at the line of the dag() call in the user's file", () => {
    const errors = errorsOf("cycle.ts");
    expect(errors.map((e) => e.error).join("\n")).toMatch(/cycle/i);
    const dagLine =
      readFileSync(join(folder, "cycle.ts"), "utf8")
        .split("\n")
        .findIndex((l) => l.includes("dag(")) + 1;
    expect(errors[0]?.line).toBe(dagLine);
    expect(bag.dags.map((d) => d.dag_id)).not.toContain("cyclic");
  });

  it("reports duplicate task ids", () => {
    expect(
      errorsOf("duplicate-task.ts")
        .map((e) => e.error)
        .join("\n"),
    ).toMatch(/same/);
    expect(bag.dags.map((d) => d.dag_id)).not.toContain("duplicate_tasks");
  });

  it("reports a dag id defined twice on the second file, naming the first", () => {
    expect(errorsOf("same-id-first.ts")).toEqual([]);
    const [err] = errorsOf("same-id-second.ts");
    expect(err?.error).toContain('"shared_id"');
    expect(err?.error).toContain(join(folder, "same-id-first.ts"));
    const shared = bag.dags.filter((d) => d.dag_id === "shared_id");
    expect(shared.map((d) => d.fileloc)).toEqual([join(folder, "same-id-first.ts")]);
  });
});
