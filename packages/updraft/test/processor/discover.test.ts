import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { discoverDagFiles } from "../../src/processor/index.js";
import { FIXTURES, cleanupTempDirs, tempDir } from "../helpers.js";

function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterAll(() => cleanupTempDirs());

describe("discoverDagFiles", () => {
  it("finds DAG files recursively in sorted order and skips the rest", async () => {
    const dag = 'import { dag } from "updraft";\n';
    const root = tree({
      "b.ts": dag,
      "a.mts": dag,
      "sub/c.js": dag,
      "sub/d.mjs": dag,
      "types.d.ts": dag,
      "notes.md": dag,
      "node_modules/pkg/index.js": dag,
      ".hidden/e.ts": dag,
      "sub/.cache/f.ts": dag,
    });
    const files = await discoverDagFiles(root);
    expect(files).toEqual(["a.mts", "b.ts", "sub/c.js", "sub/d.mjs"].map((f) => join(root, f)));
  });

  it("in safe mode skips files that do not mention updraft", async () => {
    const root = tree({ "dag.ts": 'import { dag } from "updraft";\n', "helper.ts": "export const x = 1;\n" });
    expect(await discoverDagFiles(root)).toEqual([join(root, "dag.ts")]);
    expect(await discoverDagFiles(root, { safeMode: false })).toEqual([
      join(root, "dag.ts"),
      join(root, "helper.ts"),
    ]);
  });

  it("honours .updraftignore files in the root and in subfolders, relative to their folder", async () => {
    const dag = "// updraft\n";
    const root = tree({
      ".updraftignore": "legacy/\n*_wip.ts\n",
      "keep.ts": dag,
      "draft_wip.ts": dag,
      "legacy/old.ts": dag,
      "team/.updraftignore": "scratch\n/local.ts\n",
      "team/keep.ts": dag,
      "team/scratch/x.ts": dag,
      "team/local.ts": dag,
      "team/deeper/local.ts": dag,
      "team/deeper/more_wip.ts": dag,
    });
    expect(await discoverDagFiles(root)).toEqual(
      ["keep.ts", "team/deeper/local.ts", "team/keep.ts"].map((f) => join(root, f)),
    );
  });

  it("skips the ignored folders of the good fixture", async () => {
    const root = join(FIXTURES, "dags-good");
    expect(await discoverDagFiles(root)).toEqual(
      ["example.ts", "nested/reporting.ts"].map((f) => join(root, f)),
    );
  });
});
