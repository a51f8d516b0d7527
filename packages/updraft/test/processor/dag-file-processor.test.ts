// The long-lived processor: cache hits across processors, and refresh() re-parsing only what changed.
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DagFileProcessor } from "../../src/processor/index.js";
import { cleanupTempDirs, copyFixture, tempDir } from "../helpers.js";

const processors: DagFileProcessor[] = [];

function open(folder: string, cacheDir: string): DagFileProcessor {
  const p = new DagFileProcessor(folder, { cacheDir, timeoutSeconds: 10, parsingProcesses: 1 });
  processors.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.close()));
});
afterAll(() => cleanupTempDirs());

describe("transpile cache", () => {
  it("does not transpile an unchanged file again, even in a new processor", async () => {
    const folder = copyFixture("dags-good");
    const cacheDir = tempDir();
    const first = open(folder, cacheDir);
    await first.refresh();
    expect(first.transpiler.stats.builds).toBe(first.dagFiles.length);
    expect(first.transpiler.stats.cacheHits).toBe(0);
    await first.close();

    const second = open(folder, cacheDir);
    await second.refresh();
    expect(second.transpiler.stats).toEqual({ builds: 0, cacheHits: second.dagFiles.length });
  });

  it("transpiles again when a bundled helper module changes", async () => {
    const folder = copyFixture("dags-good");
    const cacheDir = tempDir();
    await open(folder, cacheDir).refresh();
    appendFileSync(join(folder, "nested", "helpers.ts"), "\nexport const extra = 1;\n");
    const again = open(folder, cacheDir);
    await again.refresh();
    expect(again.transpiler.stats).toEqual({ builds: 1, cacheHits: 1 });
  });
});

describe("DagFileProcessor.refresh", () => {
  it("re-parses nothing when nothing changed", async () => {
    const folder = copyFixture("dags-good");
    const p = open(folder, tempDir());
    const first = await p.refresh();
    expect(first.parsedFiles.length).toBe(p.dagFiles.length);
    const second = await p.refresh();
    expect(second.parsedFiles).toEqual([]);
    expect(second.removedFiles).toEqual([]);
    expect(second.upsertedDags).toEqual([]);
    expect(second.importErrorChanges).toEqual([]);
  });

  it("re-parses a changed file, picks up a new one and drops a deleted one", async () => {
    const folder = copyFixture("dags-good");
    const p = open(folder, tempDir());
    await p.refresh();
    expect(p.dags.map((d) => d.dag_id).sort()).toEqual(["example", "reporting"]);

    const example = join(folder, "example.ts");
    writeFileSync(example, readFileSync(example, "utf8").replace('tags: ["x"]', 'tags: ["x", "changed"]'));
    const changed = await p.refresh();
    expect(changed.parsedFiles).toEqual([example]);
    expect(changed.upsertedDags.map((d) => d.dag_id)).toEqual(["example"]);
    expect(p.dags.find((d) => d.dag_id === "example")?.tags).toEqual(["x", "changed"]);

    const added = join(folder, "added.ts");
    writeFileSync(added, readFileSync(example, "utf8").replace('dagId: "example"', 'dagId: "added"'));
    rmSync(join(folder, "nested", "reporting.ts"));
    const next = await p.refresh();
    expect(next.parsedFiles).toEqual([added]);
    expect(next.removedFiles).toEqual([join(folder, "nested", "reporting.ts")]);
    expect(next.removedDagIds).toEqual(["reporting"]);
    expect(p.dags.map((d) => d.dag_id).sort()).toEqual(["added", "example"]);
  });

  it("re-parses a DAG file whose helper module changed", async () => {
    const folder = copyFixture("dags-good");
    const p = open(folder, tempDir());
    await p.refresh();
    writeFileSync(
      join(folder, "nested", "helpers.ts"),
      'export const REPORT_TAGS = ["reports", "v2"];\nexport function reportTaskIds(): string[] {\n  return ["extract", "load"];\n}\n',
    );
    const next = await p.refresh();
    expect(next.parsedFiles).toEqual([join(folder, "nested", "reporting.ts")]);
    expect(p.dags.find((d) => d.dag_id === "reporting")?.tasks.map((t) => t.task_id)).toEqual([
      "extract",
      "load",
    ]);
  });

  it("reports an import error when a file breaks and clears it when it is fixed", async () => {
    const folder = copyFixture("dags-good");
    const p = open(folder, tempDir());
    await p.refresh();
    const example = join(folder, "example.ts");
    const good = readFileSync(example, "utf8");
    writeFileSync(example, `${good}\nthrow new Error("broken on purpose");\n`);
    const broken = await p.refresh();
    expect(broken.importErrorChanges).toEqual([
      {
        filename: example,
        errors: [expect.objectContaining({ error: expect.stringContaining("broken on purpose") })],
      },
    ]);
    expect(broken.removedDagIds).toEqual(["example"]);
    writeFileSync(example, good);
    const fixed = await p.refresh();
    expect(fixed.importErrorChanges).toEqual([{ filename: example, errors: [] }]);
    expect(fixed.upsertedDags.map((d) => d.dag_id)).toEqual(["example"]);
  });
});
