import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUpdraftError, type UpdraftError } from "../common/errors.js";
import { getConfigValue, listConfig, loadConfig } from "./index.js";

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "updraft-config-"));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function toml(text: string): void {
  writeFileSync(join(home, "updraft.toml"), text);
}

function thrown(fn: () => unknown): UpdraftError {
  try {
    fn();
  } catch (err) {
    if (isUpdraftError(err)) return err;
    throw err;
  }
  throw new Error("expected an UpdraftError");
}

describe("loadConfig", () => {
  it("gives typed defaults, with paths under UPDRAFT_HOME", () => {
    const config = loadConfig({ home, env: {} });
    expect(config.home).toBe(home);
    expect(config.configFile).toBeNull();
    expect(config.core.parallelism).toBe(32);
    expect(config.core.dags_folder).toBe(join(home, "dags"));
    expect(config.logging.base_log_folder).toBe(join(home, "logs"));
    expect(config.core.dags_are_paused_at_creation).toBe(true);
    expect(config.core.fernet_key).toBeNull();
    expect(config.scheduler.task_instance_heartbeat_timeout).toBe(300);
    expect(config.api.port).toBe(8080);
    expect(config.dag_processor.parsing_processes).toBe(2);
  });

  it("reads UPDRAFT_HOME from env, then falls back to ~/updraft", () => {
    expect(loadConfig({ env: { UPDRAFT_HOME: home } }).home).toBe(home);
    expect(loadConfig({ env: {} }).home).toMatch(/updraft$/);
  });

  it("applies option > env > file > default", () => {
    toml(`[core]\nparallelism = 4\nmax_active_runs_per_dag = 3\nxcom_max_size = 10\n`);
    const env = { UPDRAFT__CORE__PARALLELISM: "5", UPDRAFT__CORE__MAX_ACTIVE_RUNS_PER_DAG: "6" };
    const config = loadConfig({ home, env, overrides: { "core.parallelism": 7 } });
    expect(config.configFile).toBe(join(home, "updraft.toml"));
    expect(config.core.parallelism).toBe(7);
    expect(config.core.max_active_runs_per_dag).toBe(6);
    expect(config.core.xcom_max_size).toBe(10);
    expect(config.core.max_active_tasks_per_dag).toBe(16);
    const sources = Object.fromEntries(listConfig(config).map((r) => [`${r.section}.${r.key}`, r.source]));
    expect(sources["core.parallelism"]).toBe("option");
    expect(sources["core.max_active_runs_per_dag"]).toBe("env");
    expect(sources["core.xcom_max_size"]).toBe("file");
    expect(sources["core.max_active_tasks_per_dag"]).toBe("default");
  });

  it("coerces env strings to the declared types", () => {
    const config = loadConfig({
      home,
      env: {
        UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION: "False",
        UPDRAFT__SCHEDULER__TASK_QUEUED_TIMEOUT: "5m",
        UPDRAFT__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: "2.5",
        UPDRAFT__DATABASE__URL: "postgres://u@h/db",
        UPDRAFT__CORE__DAGS_FOLDER: "$UPDRAFT_HOME/other",
      },
    });
    expect(config.core.dags_are_paused_at_creation).toBe(false);
    expect(config.scheduler.task_queued_timeout).toBe(300);
    expect(config.scheduler.scheduler_heartbeat_sec).toBe(2.5);
    expect(config.database.sql_alchemy_conn).toBe("postgres://u@h/db");
    expect(config.core.dags_folder).toBe(join(home, "other"));
  });

  it("accepts nested overrides and Airflow's older key names", () => {
    const config = loadConfig({
      home,
      env: { UPDRAFT__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD: "60" },
      overrides: { api: { port: 9000 } },
    });
    expect(config.api.port).toBe(9000);
    expect(config.scheduler.task_instance_heartbeat_timeout).toBe(60);
  });

  it("rejects an invalid env value naming key, value and type", () => {
    const err = thrown(() => loadConfig({ home, env: { UPDRAFT__CORE__PARALLELISM: "lots" } }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("core.parallelism");
    expect(err.message).toContain('"lots"');
    expect(err.message).toContain("integer");
    expect(err.message).toContain("UPDRAFT__CORE__PARALLELISM");
  });

  it("rejects a wrongly typed TOML value even when env overrides it", () => {
    toml(`[api]\nport = "eighty"\n`);
    const err = thrown(() => loadConfig({ home, env: { UPDRAFT__API__PORT: "80" } }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("api.port");
    expect(err.message).toContain("updraft.toml");
  });

  it("rejects unknown TOML keys and sections with a suggestion", () => {
    toml(`[core]\nparalelism = 3\n`);
    const err = thrown(() => loadConfig({ home, env: {} }));
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain("core.paralelism");
    expect(err.message).toContain("core.parallelism");
    toml(`parallelism = 3\n`);
    expect(thrown(() => loadConfig({ home, env: {} })).code).toBe("CONFIG_INVALID");
    toml(`[core\n`);
    expect(thrown(() => loadConfig({ home, env: {} })).message).toContain("not valid TOML");
  });

  it("never echoes a secret in an error", () => {
    const err = thrown(() => loadConfig({ home, env: {}, overrides: { "api.secret_key": 12345 } }));
    expect(err.message).toContain("api.secret_key");
    expect(err.message).not.toContain("12345");
  });
});

describe("listConfig and getConfigValue", () => {
  it("masks secrets unless asked", () => {
    const config = loadConfig({ home, env: { UPDRAFT__CORE__FERNET_KEY: "s3cret" } });
    const row = listConfig(config).find((r) => r.key === "fernet_key");
    expect(row?.value).toBe("< hidden >");
    expect(JSON.stringify(listConfig(config))).not.toContain("s3cret");
    const shown = listConfig(config, { includeSecrets: true }).find((r) => r.key === "fernet_key");
    expect(shown?.value).toBe("s3cret");
  });

  it("reads one value and suggests close names for an unknown one", () => {
    const config = loadConfig({ home, env: {} });
    expect(getConfigValue(config, "core", "parallelism")).toBe(32);
    expect(getConfigValue(config, "database", "url")).toBeNull();
    const err = thrown(() => getConfigValue(config, "core", "parallelsm"));
    expect(err.code).toBe("CONFIG_KEY_UNKNOWN");
    expect(err.message).toContain("core.parallelism");
  });
});
