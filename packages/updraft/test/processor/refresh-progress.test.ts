// A file that loops at import must not hold up the DAGs of the other files: refresh() hands each
// file's changes over as it finishes, and close() does not wait for the loop's time limit.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { DagFileProcessor, type RefreshResult } from "../../src/processor/index.js";
import { FIXTURES, cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(() => cleanupTempDirs());

function folderWithLoop(): string {
  const folder = join(tempDir(), "dags");
  mkdirSync(folder);
  // Sorted first, so that it is evaluated first.
  copyFileSync(join(FIXTURES, "dags-bad", "forever.ts"), join(folder, "a_forever.ts"));
  copyFileSync(join(FIXTURES, "dags-bad", "good.ts"), join(folder, "b_good.ts"));
  return folder;
}

it("hands over a good file's DAG while another file is still looping, and closes without waiting for it", async () => {
  const folder = folderWithLoop();
  const processor = new DagFileProcessor(folder, {
    cacheDir: tempDir(),
    timeoutSeconds: 600,
    parsingProcesses: 2,
  });
  const steps: RefreshResult[] = [];
  let sawGood!: () => void;
  const goodSeen = new Promise<void>((resolve) => (sawGood = resolve));
  let settled = false;
  const refresh = processor
    .refresh({
      onProgress: (changes) => {
        steps.push(changes);
        if (changes.upsertedDags.some((d) => d.dag_id === "survivor")) sawGood();
      },
    })
    .finally(() => (settled = true));

  await goodSeen;
  expect(settled).toBe(false);
  expect(steps.flatMap((s) => s.parsedFiles)).toEqual([join(folder, "b_good.ts")]);
  expect(steps.flatMap((s) => s.importErrorChanges)).toEqual([]);
  expect(processor.dags.map((d) => d.dag_id)).toEqual(["survivor"]);

  await processor.close();
  const rest = await refresh;
  // The rest is only what the steps did not hand over.
  expect(rest.parsedFiles).toEqual([join(folder, "a_forever.ts")]);
  expect(rest.upsertedDags).toEqual([]);
}, 60_000);

it("returns everything in its result when no one listens, as before", async () => {
  const folder = join(tempDir(), "dags");
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, "dags-bad", "good.ts"), join(folder, "good.ts"));
  copyFileSync(join(FIXTURES, "dags-bad", "throws.ts"), join(folder, "throws.ts"));
  const processor = new DagFileProcessor(folder, { cacheDir: tempDir(), parsingProcesses: 2 });
  try {
    const result = await processor.refresh();
    expect(result.parsedFiles).toEqual([join(folder, "good.ts"), join(folder, "throws.ts")]);
    expect(result.upsertedDags.map((d) => d.dag_id)).toEqual(["survivor"]);
    expect(result.importErrorChanges.map((c) => c.filename)).toEqual([join(folder, "throws.ts")]);
  } finally {
    await processor.close();
  }
});

it("hands a step over again with the next one when the listener fails", async () => {
  const folder = join(tempDir(), "dags");
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, "dags-bad", "good.ts"), join(folder, "good.ts"));
  copyFileSync(join(FIXTURES, "dags-bad", "throws.ts"), join(folder, "throws.ts"));
  const processor = new DagFileProcessor(folder, { cacheDir: tempDir(), parsingProcesses: 1 });
  try {
    const rest = await processor.refresh({
      onProgress: () => {
        throw new Error("database down");
      },
    });
    expect(rest.parsedFiles).toEqual([join(folder, "good.ts"), join(folder, "throws.ts")]);
    expect(rest.upsertedDags.map((d) => d.dag_id)).toEqual(["survivor"]);
    expect(rest.importErrorChanges.map((c) => c.filename)).toEqual([join(folder, "throws.ts")]);
  } finally {
    await processor.close();
  }
});
