// docs/kubernetes.md documents every value of chart/values.yaml, and its lab uses names the chart
// really renders.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { CHART, LAB_VALUES, REPO_ROOT, render } from "./render.js";

const DOC = readFileSync(join(REPO_ROOT, "docs", "kubernetes.md"), "utf8");
/** Maps whose keys are the user's (labels, resources, …), documented as one value. */
const OPEN_MAPS = new Set([
  "resources",
  "labels",
  "annotations",
  "nodeSelector",
  "affinity",
  "webserver",
  "config",
]);

function leaves(value: unknown, path: string, out: string[]): string[] {
  const isMap = value !== null && typeof value === "object" && !Array.isArray(value);
  const key = path.slice(path.lastIndexOf(".") + 1);
  if (!isMap || Object.keys(value).length === 0 || OPEN_MAPS.has(key)) {
    out.push(path);
    return out;
  }
  for (const [k, v] of Object.entries(value)) leaves(v, path === "" ? k : `${path}.${k}`, out);
  return out;
}

describe("docs/kubernetes.md", () => {
  it("lists every value of chart/values.yaml", () => {
    const values = parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as Record<string, unknown>;
    const paths = leaves(values, "", []);
    expect(paths.length).toBeGreaterThan(100);
    const missing = paths.filter((p) => {
      const parent = p.slice(0, p.lastIndexOf("."));
      return !DOC.includes(`\`${p}\``) && !(parent !== "" && DOC.includes(`\`${parent}.*\``));
    });
    expect(missing).toEqual([]);
  });

  it("uses the names the chart renders for release `updraft`", () => {
    const names = new Set(
      render([LAB_VALUES]).map((m) => `${m.kind}/${m.metadata.name.replace(/^airflow-/, "updraft-")}`),
    );
    for (const name of [
      "Deployment/updraft-api-server",
      "Service/updraft-api-server",
      "PersistentVolumeClaim/updraft-dags",
      "ConfigMap/updraft-pod-template",
    ]) {
      expect(names.has(name), name).toBe(true);
      expect(DOC).toContain(name.split("/")[1]!);
    }
    expect(DOC).toContain("deployment/updraft-api-server");
    expect(DOC).toContain('"claimName": "updraft-dags"');
  });
});
