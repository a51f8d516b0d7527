// Parsing a DAG file must not load the Kubernetes client (decision 0024): declaring both operators
// through the built package resolves no module of @kubernetes/client-node, while loading the
// operators' runtime module does (the control shows that the recording works). Needs dist/.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, PACKAGE_ROOT, tempDir } from "../helpers.js";

const HOOK = fileURLToPath(new URL("../fixtures/kubernetes/record-imports.mjs", import.meta.url));
const SDK = join(PACKAGE_ROOT, "dist", "index.js");
const RUNTIME = join(PACKAGE_ROOT, "dist", "kube", "operators.js");

const SCRIPT = `const sdk = await import(process.argv[2]);
sdk.dag({ dagId: "lazy" }, () => {
  new sdk.KubernetesPodOperator({ taskId: "t", image: "busybox", arguments: ["{{ ds }}"] });
  new sdk.SparkKubernetesOperator({ taskId: "s", applicationFile: "spark.yaml" });
});
console.log("declared");
if (process.argv[3]) await import(process.argv[3]);
`;

function run(...modules: string[]): { stdout: string; stderr: string } {
  const script = join(tempDir("updraft-lazy-"), "declare.mjs");
  writeFileSync(script, SCRIPT);
  const r = spawnSync(process.execPath, ["--import", HOOK, script, ...modules], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

afterAll(() => cleanupTempDirs());

describe("the Kubernetes client loads only when a task runs", () => {
  it("is not loaded by declaring the operators, and is by their runtime module", () => {
    expect(existsSync(SDK), "run `npm run build -w updraft` first: this test imports dist/").toBe(true);
    const declared = run(SDK);
    expect(declared.stdout).toContain("declared");
    expect(declared.stderr).not.toContain("@kubernetes/client-node");
    const executed = run(SDK, RUNTIME);
    expect(executed.stderr).toContain("LOADED file://");
    expect(executed.stderr).toContain("@kubernetes/client-node");
  });
});
