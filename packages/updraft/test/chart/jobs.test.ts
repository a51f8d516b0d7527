// The chart's hook Jobs run for real, outside Kubernetes: their command lines and environment are
// taken from `helm template` (Secrets resolved from the rendered Secrets, as the kubelet would),
// with `updraft` from this repository's build on the embedded database in a temporary home.
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UPDRAFT_BIN, cleanupTempDirs, tempDir } from "../helpers.js";
import { LAB_VALUES, find, render, type Manifest } from "./render.js";

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type JobContainer = { command?: string[]; args: string[]; env: EnvVar[] };

afterAll(() => cleanupTempDirs());

/** The Job's container, and its environment with secretKeyRefs resolved from the rendered Secrets. */
function jobOf(ms: Manifest[], name: string): { argv: string[]; env: Record<string, string> } {
  const job = find(ms, "Job", name);
  const c = (job["spec"] as { template: { spec: { containers: JobContainer[] } } }).template.spec
    .containers[0]!;
  const env: Record<string, string> = {};
  for (const e of c.env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref !== undefined) {
      const data = find(ms, "Secret", ref.name)["data"] as Record<string, string>;
      env[e.name] = Buffer.from(data[ref.key]!, "base64").toString("utf8");
    } else {
      env[e.name] = e.value ?? "";
    }
  }
  // The image's ENTRYPOINT is `tini -- updraft`; a command replaces it.
  return { argv: c.command === undefined ? ["updraft", ...c.args] : [...c.command, ...c.args], env };
}

/**
 * Runs a Job's command with `updraft` on PATH. Only the Job's own variables and the keys are kept:
 * the database is the embedded one here, not the chart's PostgreSQL.
 */
function runJob(job: { argv: string[]; env: Record<string, string> }, home: string) {
  const bin = join(home, "bin");
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(UPDRAFT_BIN, join(bin, "updraft"));
  } catch {
    // Already linked by an earlier run in this home.
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:${process.env["PATH"] ?? ""}`,
    HOME: home,
    UPDRAFT_HOME: home,
  };
  for (const [k, v] of Object.entries(job.env)) {
    if (
      k.startsWith("DEFAULT_USER_") ||
      k === "UPDRAFT__CORE__FERNET_KEY" ||
      k === "UPDRAFT__API__SECRET_KEY"
    ) {
      env[k] = v;
    }
  }
  const [cmd, ...args] = job.argv;
  return spawnSync(cmd!, args, { env, encoding: "utf8", timeout: 60_000 });
}

describe("the hook Jobs", () => {
  it("migrate the database, then create the default user once and leave it on upgrade", () => {
    const ms = render([LAB_VALUES]);
    const home = tempDir("updraft-chart-jobs-");
    const migrate = runJob(jobOf(ms, "airflow-migrate-database"), home);
    expect(migrate.stdout + migrate.stderr).toMatch(/Applied \d+ migrations? to the embedded database/);
    expect(migrate.status).toBe(0);

    const user = jobOf(ms, "airflow-create-user");
    expect(user.env["DEFAULT_USER_PASSWORD"]).toBe("admin123");
    const first = runJob(user, home);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain("admin");
    const again = runJob(user, home);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("User admin exists already");
    // The password never went through a command line of the manifest: only "$DEFAULT_USER_PASSWORD".
    expect(user.argv.join(" ")).not.toContain("admin123");
  }, 120_000);

  it("fail the user Job with Updraft's reason when the password is the tutorial's changeme", () => {
    const ms = render([LAB_VALUES], ["webserver.defaultUser.password=changeme"]);
    const home = tempDir("updraft-chart-jobs-");
    expect(runJob(jobOf(ms, "airflow-migrate-database"), home).status).toBe(0);
    const r = runJob(jobOf(ms, "airflow-create-user"), home);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[PASSWORD_WEAK]");
  }, 120_000);
});
