// `updraft standalone` as a user runs it (`npm start`): the example DAGs on the embedded
// database, and a second terminal's CLI commands forwarded to it.
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Daemon, EXAMPLE_DAG_IDS, EXAMPLES, eventually, updraft } from "./helpers.js";

const home = mkdtempSync(join(tmpdir(), "updraft-e2e-standalone-"));
const env = { UPDRAFT_HOME: home, UPDRAFT__CORE__DAGS_FOLDER: EXAMPLES };
let daemon: Daemon | null = null;

afterAll(async () => {
  await daemon?.stop("SIGKILL");
});

describe("updraft standalone", () => {
  test("runs the example DAGs when triggered, with every try recorded, and stops cleanly", async () => {
    daemon = new Daemon(["standalone", "--port", "0"], env);
    const ready = await daemon.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000);
    const url = ready[1];
    // The server answers before the DAG folder is parsed; the commands below need the DAGs.
    await daemon.waitFor(/first parse of the DAG folder finished/, 120_000);
    const health = (await (await fetch(`${url}/api/v1/health`)).json()) as Record<string, { status: string }>;
    // Every component standalone runs reports healthy, the triggerer included.
    expect(Object.keys(health).sort()).toEqual(["dag_processor", "metadatabase", "scheduler", "triggerer"]);
    expect(health["triggerer"]?.status).toBe("healthy");
    expect(health["metadatabase"]?.status).toBe("healthy");
    expect(health["scheduler"]?.status).toBe("healthy");
    expect(health["dag_processor"]?.status).toBe("healthy");
    expect(existsSync(join(home, "standalone.json"))).toBe(true);

    // Another terminal: these commands are forwarded to the server holding the database.
    const list = updraft(["dags", "list", "--output", "json"], env);
    expect(list.code, list.stderr).toBe(0);
    const ids = (JSON.parse(list.stdout) as { dag_id: string }[]).map((d) => d.dag_id).sort();
    expect(ids).toEqual(EXAMPLE_DAG_IDS);

    const dags = ["data_pipeline_lab", "sales_pipeline", "critical_pipeline"];
    for (const dagId of dags) {
      expect(updraft(["dags", "unpause", dagId], env).code).toBe(0);
      const t = updraft(["dags", "trigger", dagId, "--run-id", `e2e_${dagId}`], env);
      expect(t.code, t.stderr).toBe(0);
    }
    for (const dagId of dags) {
      const state = await eventually(
        () => {
          const r = updraft(["dags", "state", dagId, `e2e_${dagId}`], env);
          const s = r.stdout.trim();
          return s === "success" || s === "failed" ? s : undefined;
        },
        120_000,
        `run of ${dagId}`,
      );
      expect(state, daemon.output.slice(-3000)).toBe("success");
      const tis = JSON.parse(
        updraft(["tasks", "states-for-dag-run", dagId, `e2e_${dagId}`, "--output", "json"], env).stdout,
      ) as {
        state: string;
        try_number: number;
      }[];
      expect(tis.length).toBeGreaterThan(0);
      expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);
    }
    // The warehouse example needs services this machine may not have: it stays paused, with no
    // run to fail, until the user unpauses it (README, "The warehouse example").
    for (const dagId of ["warehouse_ingest", "warehouse_report"]) {
      const runs = updraft(["dags", "list-runs", dagId, "--output", "json"], env);
      expect(runs.code, runs.stderr).toBe(0);
      expect(JSON.parse(runs.stdout || "[]")).toEqual([]);
    }
    // The notification's output is in its task log.
    const { token } = JSON.parse(readFileSync(join(home, "standalone.json"), "utf8")) as { token: string };
    const log = await fetch(
      `${url}/api/v1/dags/data_pipeline_lab/dagRuns/e2e_data_pipeline_lab/taskInstances/notify/logs/1`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(await log.text()).toContain("PIPELINE COMPLETE - NOTIFICATION");

    // The admin user: a random password printed once, and kept in a file only the user reads.
    const password = (await daemon.waitFor(/Login with username: admin {2}password: (\S+)/, 1000))[1] ?? "";
    const passwordFile = join(home, "standalone_admin_password.txt");
    expect(readFileSync(passwordFile, "utf8").trim()).toBe(password);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    const basic = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
    const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: basic } });
    expect(await me.json()).toMatchObject({ username: "admin", roles: ["Admin"] });
    const anonymous = await fetch(`${url}/api/v1/dags`);
    expect(anonymous.status).toBe(401);
    await anonymous.text();
    const anonymousCli = await fetch(`${url}/api/v1/cli`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ argv: ["users", "list"], cwd: home }),
    });
    expect(anonymousCli.status).toBe(401);
    await anonymousCli.text();
    // Users commands are forwarded like the others; a Viewer's token cannot run CLI commands.
    const viewer = updraft(
      [
        "users",
        "create",
        "--username",
        "val",
        "--email",
        "val@example.com",
        "--role",
        "Viewer",
        "--password",
        "val-password-1",
      ],
      env,
    );
    expect(viewer.code, viewer.stderr).toBe(0);
    const viewerToken = updraft(["users", "tokens", "create", "--username", "val"], env)
      .stdout.trim()
      .split("\n")
      .at(-1);
    const viewerCli = await fetch(`${url}/api/v1/cli`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${viewerToken}` },
      body: JSON.stringify({ argv: ["users", "list"], cwd: home }),
    });
    expect(viewerCli.status).toBe(403);
    expect(((await viewerCli.json()) as { detail: string }).detail).toContain("cli:execute");
    const users = JSON.parse(updraft(["users", "list", "--output", "json"], env).stdout) as {
      username: string;
    }[];
    expect(users.map((u) => u.username).sort()).toEqual(["admin", "val"]);

    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(existsSync(join(home, "standalone.json"))).toBe(false);
  }, 300_000);
});
