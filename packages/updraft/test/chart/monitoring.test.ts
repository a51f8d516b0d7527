// The chart installs the repository's monitoring/ material: its copies in chart/files/ are current,
// and the PrometheusRule, the Grafana dashboard and the statsd mapping carry them unchanged.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { staleChartFiles } from "../../../../scripts/sync-chart-files.mjs";
import { CHART, REPO_ROOT, find, helm, render } from "./render.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { schemaProblems } from "./validate.js";

const monitoring = (file: string) => readFileSync(join(REPO_ROOT, "monitoring", file), "utf8");

afterAll(() => cleanupTempDirs());

describe("the chart's monitoring", () => {
  it("survives `helm package`: the packaged chart carries the copies", () => {
    const out = tempDir("updraft-chart-package-");
    const packed = helm(["package", CHART, "--destination", out]);
    expect(packed.status, packed.stderr).toBe(0);
    const tgz = join(out, "updraft-0.1.0.tgz");
    const r = helm(["template", "airflow", tgz, "--set", "monitoring.prometheusRule.enabled=true"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("alert: UpdraftSchedulerHeartbeatMissing");
  });

  it("has current copies of monitoring/ in chart/files/ (node scripts/sync-chart-files.mjs)", () => {
    expect(staleChartFiles()).toEqual([]);
  });

  it("renders a PrometheusRule with monitoring/alerts.yml's groups and a dashboard ConfigMap", () => {
    const ms = render([], ["monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true"]);
    const rule = find(ms, "PrometheusRule", "airflow-alerts");
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    const spec = rule["spec"] as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
    // The shape the Prometheus Operator's CRD wants, and exactly the rules promtool checks.
    expect(spec).toEqual(parse(monitoring("alerts.yml")));
    expect(spec.groups.length).toBeGreaterThan(0);
    for (const g of spec.groups) {
      expect(typeof g.name).toBe("string");
      for (const r of g.rules) expect([typeof r.alert, typeof r.expr]).toEqual(["string", "string"]);
    }
    const dashboard = find(ms, "ConfigMap", "airflow-grafana-dashboard");
    expect(dashboard.metadata.labels?.["grafana_dashboard"]).toBe("1");
    const json = (dashboard["data"] as Record<string, string>)["updraft-dashboard.json"]!;
    expect(JSON.parse(json)).toEqual(JSON.parse(monitoring("grafana-dashboard.json")));
    expect(schemaProblems(dashboard)).toEqual([]);
  });

  it("mounts monitoring/statsd-mapping.yml in the statsd-exporter and points every component at it", () => {
    const ms = render();
    const mapping = find(ms, "ConfigMap", "airflow-statsd-mapping")["data"] as Record<string, string>;
    expect(mapping["statsd-mapping.yml"]!.trim()).toBe(monitoring("statsd-mapping.yml").trim());
    const exporter = find(ms, "Deployment", "airflow-statsd");
    const c = (exporter["spec"] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0]!;
    expect(c.args).toContain("--statsd.mapping-config=/etc/statsd/statsd-mapping.yml");
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(JSON.stringify(scheduler)).toContain(
      '{"name":"UPDRAFT__METRICS__STATSD_HOST","value":"airflow-statsd"}',
    );
  });

  it("leaves them out by default", () => {
    const kinds = render().map((m) => m.kind);
    expect(kinds).not.toContain("PrometheusRule");
  });
});
