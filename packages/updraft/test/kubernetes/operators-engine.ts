// The whole engine of `updraft standalone` (API server, scheduler, DAG processor, LocalExecutor
// with real runner processes forked from dist/) on PGlite, for the Kubernetes operator tests.
// Runner processes inherit this process's environment: KUBECONFIG points them at the simulator.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { startEngine, type Engine } from "../../src/cli/engine.js";
import { loadConfig } from "../../src/config/index.js";
import { createCipher, generateFernetKey, setConnection, type Database } from "../../src/db/index.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { setTaskInstanceState, triggerDagRun } from "../../src/services/index.js";
import { openTestPGlite } from "../db-testing.js";

export interface TiRow {
  state: string | null;
  try_number: number;
}

export class OperatorEngine {
  private constructor(
    readonly engine: Engine,
    readonly database: Database,
    readonly home: string,
    private readonly fernetKey: string,
  ) {}

  static async start(home: string, dagsFolder: string): Promise<OperatorEngine> {
    const fernetKey = generateFernetKey();
    const config = loadConfig({
      home,
      env: {},
      overrides: {
        "core.fernet_key": fernetKey,
        "core.dags_are_paused_at_creation": false,
      },
    });
    const database = await openTestPGlite();
    const engine = await startEngine({
      config,
      dagsFolder,
      parts: { api: true, scheduler: true, processor: true },
      logger: pino({ level: "silent" }),
      secretKey: "kubernetes-operators-test-secret-0123456789",
      port: 0,
      host: "127.0.0.1",
      database,
      awaitFirstParse: true,
    });
    // Only the runs the tests trigger.
    await database.db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
    return new OperatorEngine(engine, database, home, fernetKey);
  }

  async trigger(dagId: string, runId: string): Promise<Date> {
    const run = await triggerDagRun(this.database.db, { dagId, runId }, { events: this.engine.events });
    return run.logical_date as Date;
  }

  async ti(dagId: string, runId: string, taskId: string): Promise<TiRow | undefined> {
    return this.database.db
      .selectFrom("task_instance")
      .select(["state", "try_number"])
      .where("dag_id", "=", dagId)
      .where("run_id", "=", runId)
      .where("task_id", "=", taskId)
      .executeTakeFirst();
  }

  async runState(dagId: string, runId: string): Promise<string | undefined> {
    const r = await this.database.db
      .selectFrom("dag_run")
      .select("state")
      .where("dag_id", "=", dagId)
      .where("run_id", "=", runId)
      .executeTakeFirst();
    return r?.state ?? undefined;
  }

  /** Stores an Airflow connection (extra as JSON), as `updraft connections add` does. */
  async addConnection(connId: string, connType: string, extra: Record<string, unknown>): Promise<void> {
    await setConnection(this.database.db, createCipher(this.fernetKey), {
      connId,
      connType,
      description: null,
      host: null,
      schema: null,
      login: null,
      password: null,
      port: null,
      extra: JSON.stringify(extra),
    });
  }

  /** The try's log so far ("" before it exists). */
  log(dagId: string, runId: string, taskId: string, tryNumber = 1, mapIndex = -1): string {
    const file = join(
      this.home,
      "logs",
      taskLogRelativePath({ dag_id: dagId, run_id: runId, task_id: taskId, map_index: mapIndex }, tryNumber),
    );
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  async markFailed(dagId: string, runId: string, taskId: string): Promise<void> {
    await setTaskInstanceState(
      this.database.db,
      { dagId, runId, taskId, state: "failed" },
      { events: this.engine.events },
    );
  }

  async xcom(dagId: string, runId: string, taskId: string, key = "return_value"): Promise<unknown> {
    const row = await this.database.db
      .selectFrom("xcom")
      .selectAll()
      .where("dag_id", "=", dagId)
      .where("run_id", "=", runId)
      .where("task_id", "=", taskId)
      .where("key", "=", key)
      .executeTakeFirst();
    return row === undefined ? undefined : (row as { value: unknown }).value;
  }

  async stop(): Promise<void> {
    await this.engine.stop();
    await this.database.close();
  }
}

/** Polls `f` (every 100 ms) until it returns a value. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 90_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves with the instance's state once it is one of `states`. */
export function stateOf(
  e: OperatorEngine,
  dagId: string,
  runId: string,
  taskId: string,
  states: readonly string[],
  ms = 90_000,
): Promise<string> {
  return until(
    `${dagId}.${taskId} in ${states.join("/")}`,
    async () => {
      const ti = await e.ti(dagId, runId, taskId);
      return ti?.state != null && states.includes(ti.state) ? ti.state : undefined;
    },
    ms,
  );
}
