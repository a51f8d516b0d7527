// The schema checks the chart tests rely on can fail: a wrong type, a missing required field and a
// field one level off (what a mis-indented template renders) are each reported.
import { describe, expect, it } from "vitest";
import type { Manifest } from "./render.js";
import { schemaProblems } from "./validate.js";

const deployment = (container: Record<string, unknown>, extra: Record<string, unknown> = {}): Manifest => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", labels: { a: "b" } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { containers: [container] } },
    ...extra,
  },
});

describe("schemaProblems", () => {
  it("accepts a valid Deployment", () => {
    const ok = deployment({
      name: "c",
      image: "i",
      resources: { limits: { memory: "1Gi" } },
      env: [{ name: "A", value: "1" }],
    });
    expect(schemaProblems(ok)).toEqual([]);
  });

  it("reports a wrong type and a missing required field", () => {
    expect(schemaProblems(deployment({ name: "c", env: [{ name: "A", value: 1 }] })).join("\n")).toContain(
      "must be string",
    );
    expect(schemaProblems(deployment({ image: "i" })).join("\n")).toContain("name");
  });

  it("reports fields the API does not define, at any depth", () => {
    const bad = deployment(
      { name: "c", image: "i", env: [{ name: "A", valu: "1" }], mountPath: "/x" },
      { containers: [] },
    );
    expect(schemaProblems(bad)).toEqual([
      "Deployment/d: unknown field .spec.template.spec.containers[0].env[0].valu",
      "Deployment/d: unknown field .spec.template.spec.containers[0].mountPath",
      "Deployment/d: unknown field .spec.containers",
    ]);
  });

  it("says when a kind has no schema here", () => {
    const rule = { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: "r" } };
    expect(schemaProblems(rule)).toEqual([
      "PrometheusRule/r: no schema for monitoring.coreos.com/v1 PrometheusRule",
    ]);
  });
});
