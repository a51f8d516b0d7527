// Parsing a DAG file must not load the Kubernetes client (decision 0024): declaring both operators
// through the built package resolves no module of @kubernetes/client-node, while loading the
// operators' runtime module does (the control shows that the recording works). Needs dist/.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, PACKAGE_ROOT } from "../helpers.js";
import { declareAndLoad, SDK } from "../lazy-imports.js";

const RUNTIME = join(PACKAGE_ROOT, "dist", "kube", "operators.js");
const WATCHED = ["@kubernetes/client-node"];
const DECLARATIONS = `
  new sdk.KubernetesPodOperator({ taskId: "t", image: "busybox", arguments: ["{{ ds }}"] });
  new sdk.SparkKubernetesOperator({ taskId: "s", applicationFile: "spark.yaml" });`;

afterAll(() => cleanupTempDirs());

describe("the Kubernetes client loads only when a task runs", () => {
  it("is not loaded by declaring the operators, and is by their runtime module", () => {
    expect(existsSync(SDK), "run `npm run build -w updraft` first: this test imports dist/").toBe(true);
    const declared = declareAndLoad(DECLARATIONS, WATCHED);
    expect(declared.stdout).toContain("declared");
    expect(declared.stderr).not.toContain("@kubernetes/client-node");
    const executed = declareAndLoad(DECLARATIONS, WATCHED, RUNTIME);
    expect(executed.stderr).toContain("LOADED file://");
    expect(executed.stderr).toContain("@kubernetes/client-node");
  });
});
