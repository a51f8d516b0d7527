// The alert rules of monitoring/ checked with the real promtool (Debian's `prometheus` package,
// installed by .ci/run): `promtool check rules` and `promtool test rules` with a test per alert.
// Under CI=true a missing promtool fails; elsewhere these tests skip and say why.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../helpers.js";

const MONITORING = join(PACKAGE_ROOT, "..", "..", "monitoring");
const TEST_FILES = ["alerts.test.yml", "alerts-7d.test.yml"];
const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const missing = promtool.error !== undefined || promtool.status !== 0;

if (missing && process.env["CI"] === "true") {
  it("has promtool (CI installs Debian's prometheus package in .ci/run)", () => {
    throw new Error("promtool is missing under CI=true: install it with `apt-get install -y prometheus`.");
  });
} else if (missing) {
  process.stderr.write(
    "SKIPPED monitoring/promtool.test.ts: promtool is not installed (apt-get install -y prometheus); the alert rules are not checked.\n",
  );
}

const run = (args: string[]) => spawnSync("promtool", args, { cwd: MONITORING, encoding: "utf8" });

describe.skipIf(missing)("monitoring/alerts.yml with promtool", () => {
  it("passes promtool check rules", () => {
    const r = run(["check", "rules", "alerts.yml"]);
    expect(r.stdout + r.stderr).toContain("SUCCESS: 6 rules found");
    expect(r.status).toBe(0);
  });

  it("passes promtool test rules, one test per alert", () => {
    const r = run(["test", "rules", ...TEST_FILES]);
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
    // Every alert of the rules file has a test that expects it to fire.
    const rules = readFileSync(join(MONITORING, "alerts.yml"), "utf8");
    const tests = TEST_FILES.map((f) => readFileSync(join(MONITORING, f), "utf8")).join("\n");
    const alerts = [...rules.matchAll(/- alert: (\S+)/g)].map((m) => m[1]!);
    expect(alerts).toHaveLength(6);
    for (const a of alerts)
      expect(tests, a).toMatch(new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- `));
  });

  it("fails promtool test rules when an alert's threshold is wrong (the check can fail)", () => {
    const rules = readFileSync(join(MONITORING, "alerts.yml"), "utf8").replace(
      "sum(increase(airflow_ti_failures[1h])) > 3",
      "sum(increase(airflow_ti_failures[1h])) > 30",
    );
    const out = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    for (const f of TEST_FILES) execFileSync("cp", [join(MONITORING, f), join(out, f)]);
    execFileSync("sh", ["-c", 'cat > "$1"', "sh", join(out, "alerts.yml")], { input: rules });
    const r = spawnSync("promtool", ["test", "rules", ...TEST_FILES], { cwd: out, encoding: "utf8" });
    execFileSync("rm", ["-rf", out]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("UpdraftTaskFailuresFrequent");
  });
});

describe("monitoring/grafana-dashboard.json", () => {
  it("has a panel for each alert's metric", () => {
    const d = JSON.parse(readFileSync(join(MONITORING, "grafana-dashboard.json"), "utf8")) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const m of [
      "airflow_scheduler_heartbeat",
      "airflow_dag_processing_total_parse_time",
      "airflow_pool_open_slots",
      "airflow_dagrun_duration_success",
      "airflow_ti_failures",
      "airflow_zombies_killed",
    ])
      expect(exprs, m).toContain(m);
  });
});
