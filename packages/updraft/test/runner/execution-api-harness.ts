// The real API server (createApiServer) on a test database, with the DAGs of one file written as
// the DAG processor writes them, and tries queued the way the scheduler queues them: a guarded
// `state = 'queued', try_number = try_number + 1` and a token signed for exactly that try. Runner
// and executor tests hand the workloads to real runners and then read what the server recorded.
// It takes an open database and imports nothing from vitest, so benchmarks can bundle it too.
import { API_TOKEN, seedUserWithToken } from "../api/helpers.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import { signToken } from "../../src/common/signed-token.js";
import { loadConfig, type UpdraftConfig } from "../../src/config/index.js";
import { generateFernetKey, type Database, type TaskInstanceRow } from "../../src/db/index.js";
import type {
  CallbackWorkload,
  TaskInstanceKey,
  TaskWorkload,
  TokenClaims,
} from "../../src/model/execution-api.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import type { TaskInstanceState } from "../../src/model/states.js";
import { DagFileProcessor } from "../../src/processor/index.js";
import { syncDagBag, triggerDagRun } from "../../src/services/index.js";

/** Signs the tests' tokens; the server refuses a key under 16 characters. */
export const SECRET = "runner-test-secret-0123456789abcdef";

/**
 * States a new try may be queued from. Not queued, running, restarting or deferred: a try of
 * the instance is still out there, and queuing another would hand the same instance out twice.
 */
const REQUEUEABLE: readonly TaskInstanceState[] = [
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "removed",
];

export interface ApiRequest {
  method: string;
  path: string;
  status: number;
  /** The token's task instance and try, when the request carried a valid execution token. */
  ti: TaskInstanceKey | null;
  tryNumber: number | null;
}

export interface QueueOptions {
  /** Overrides the instance's max_tries (the task's retries, Airflow's meaning) for this test. */
  maxTries?: number;
  executionTimeoutMs?: number | null;
  freshProcess?: boolean;
}

export interface ExecutionApiHarness {
  readonly url: string;
  readonly database: Database;
  readonly config: UpdraftConfig;
  readonly server: ApiServer;
  /** Every execution API request the server answered, in order. */
  readonly requests: ApiRequest[];
  /** Parses `dagFile` in the DAG processor's child processes and writes its DAGs (unpaused). */
  loadDagFile(dagFile: string): Promise<void>;
  /** Creates a manual run with its task instances, as a trigger from the API does. */
  triggerRun(
    dagId: string,
    runId: string,
    logicalDate: string,
    conf?: Record<string, unknown>,
  ): Promise<void>;
  /** Adds mapped instances 0…n-1 of a task, as the scheduler does once the upstream list is known. */
  expand(dagId: string, runId: string, taskId: string, n: number): Promise<void>;
  /** Queues the next try of a task instance and returns its workload. */
  queueTry(key: TaskInstanceKey, fileloc: string, o?: QueueOptions): Promise<TaskWorkload>;
  /** A callback workload for the instance's current try, with a read-only callback token. */
  callbackWorkload(
    key: TaskInstanceKey,
    fileloc: string,
    callback: CallbackWorkload["callback"],
    error?: string,
  ): Promise<CallbackWorkload>;
  /** The token of one try, for a test that talks to the execution API itself. */
  tokenFor(key: TaskInstanceKey, tryNumber: number, scope?: "task" | "callback"): string;
  ti(key: TaskInstanceKey): Promise<TaskInstanceRow>;
  /** The task_instance_history row of one try, if the try was recorded. */
  historyOf(
    key: TaskInstanceKey,
    tryNumber: number,
  ): Promise<{ state: string | null; error: string | null } | undefined>;
  /** The stored XCom value, or undefined when none was pushed. */
  xcom(key: TaskInstanceKey, xcomKey?: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Folder of the task logs (logging.base_log_folder) and of the config's home. */
  home: string;
  heartbeatIntervalS?: number;
  xcomMaxSize?: number;
}

const whereKey = (key: TaskInstanceKey) =>
  sql`dag_id = ${key.dag_id} and run_id = ${key.run_id} and task_id = ${key.task_id} and map_index = ${key.map_index}`;

export async function startExecutionApi(
  database: Database,
  options: HarnessOptions,
): Promise<ExecutionApiHarness> {
  const db = database.db;
  const logDir = join(options.home, "logs");
  mkdirSync(logDir, { recursive: true });
  const config = loadConfig({
    home: options.home,
    env: {},
    overrides: {
      "core.fernet_key": generateFernetKey(),
      "logging.base_log_folder": logDir,
      ...(options.xcomMaxSize === undefined ? {} : { "core.xcom_max_size": options.xcomMaxSize }),
    },
  });
  // REST calls of the tests authenticate as an Admin (`Authorization: Bearer ${API_TOKEN}`).
  await seedUserWithToken(database, "test-admin", "Admin", API_TOKEN);
  const server = createApiServer({
    database,
    config,
    events: null,
    secretKey: SECRET,
    ...(options.heartbeatIntervalS === undefined ? {} : { heartbeatIntervalS: options.heartbeatIntervalS }),
  });
  const requests: ApiRequest[] = [];
  // Fastify takes hooks only before it starts listening.
  server.app.addHook("onResponse", async (request, reply) => {
    if (!request.url.startsWith("/execution/")) return;
    const claims = request.claims ?? null;
    requests.push({
      method: request.method,
      path: request.url.split("?")[0] ?? "",
      status: reply.statusCode,
      ti: claims?.ti ?? null,
      tryNumber: claims?.try_number ?? null,
    });
  });
  const url = await server.listen(0, "127.0.0.1");

  const tokenFor = (key: TaskInstanceKey, tryNumber: number, scope: "task" | "callback" = "task") => {
    const claims: TokenClaims = {
      ti: key,
      try_number: tryNumber,
      exp: Math.floor(Date.now() / 1000) + 3600,
      scope,
    };
    return signToken(claims, SECRET);
  };
  const describeTi = (key: TaskInstanceKey) =>
    `${key.dag_id}.${key.task_id}${key.map_index >= 0 ? `[${key.map_index}]` : ""} of run ${key.run_id}`;

  const ti = async (key: TaskInstanceKey): Promise<TaskInstanceRow> => {
    const row = await db
      .selectFrom("task_instance")
      .selectAll()
      .where("dag_id", "=", key.dag_id)
      .where("run_id", "=", key.run_id)
      .where("task_id", "=", key.task_id)
      .where("map_index", "=", key.map_index)
      .executeTakeFirst();
    if (row === undefined) throw new Error(`There is no task instance ${describeTi(key)}.`);
    return row;
  };

  return {
    url,
    database,
    config,
    server,
    requests,
    async loadDagFile(dagFile) {
      const processor = new DagFileProcessor(dagFile, {
        cacheDir: join(options.home, "cache"),
        parsingProcesses: 1,
      });
      try {
        const changes = await processor.refresh();
        const errors = changes.importErrorChanges.flatMap((c) => c.errors);
        if (errors.length > 0) throw new Error(`${dagFile} did not import: ${JSON.stringify(errors)}`);
        await syncDagBag(db, changes, { pausedAtCreation: false });
      } finally {
        await processor.close();
      }
    },
    async triggerRun(dagId, runId, logicalDate, conf = {}) {
      await triggerDagRun(db, { dagId, runId, logicalDate, conf });
    },
    async expand(dagId, runId, taskId, n) {
      await sql`
        insert into task_instance (dag_id, run_id, task_id, map_index, max_tries, pool, pool_slots,
          priority_weight, queue, operator)
        select t.dag_id, t.run_id, t.task_id, i, t.max_tries, t.pool, t.pool_slots, t.priority_weight,
          t.queue, t.operator
        from task_instance t, generate_series(0, ${n - 1}::int) i
        where t.dag_id = ${dagId} and t.run_id = ${runId} and t.task_id = ${taskId} and t.map_index = -1
        on conflict do nothing`.execute(db);
    },
    async queueTry(key, fileloc, o = {}) {
      const row = await db
        .updateTable("task_instance")
        .set({
          state: "queued",
          try_number: sql<number>`try_number + 1`,
          queued_dttm: sql<Date>`now()`,
          updated_at: sql<Date>`now()`,
          ...(o.maxTries === undefined ? {} : { max_tries: o.maxTries }),
        })
        .where("dag_id", "=", key.dag_id)
        .where("run_id", "=", key.run_id)
        .where("task_id", "=", key.task_id)
        .where("map_index", "=", key.map_index)
        .where((eb) => eb.or([eb("state", "is", null), eb("state", "in", REQUEUEABLE)]))
        .returning("try_number")
        .executeTakeFirst();
      if (row === undefined) {
        const now = await ti(key);
        throw new Error(
          `Cannot queue a new try of ${describeTi(key)}: it is ${now.state} at try ${now.try_number}, and a try in flight must end first.`,
        );
      }
      return {
        kind: "task",
        ti: key,
        try_number: row.try_number,
        fileloc,
        token: tokenFor(key, row.try_number),
        api_url: url,
        log_path: join(logDir, taskLogRelativePath(key, row.try_number)),
        fresh_process: o.freshProcess ?? false,
        queue: "default",
        priority_weight: 1,
        execution_timeout_ms: o.executionTimeoutMs ?? null,
      };
    },
    async callbackWorkload(key, fileloc, callback, error) {
      const tryNumber = Math.max(1, (await ti(key)).try_number);
      return {
        kind: "callback",
        callback,
        ti: key,
        try_number: tryNumber,
        fileloc,
        token: tokenFor(key, tryNumber, "callback"),
        api_url: url,
        log_path: join(logDir, "callbacks", `${key.dag_id}-${callback}.log`),
        ...(error === undefined ? {} : { error }),
      };
    },
    tokenFor,
    ti,
    async historyOf(key, tryNumber) {
      const r = await sql<{ state: string | null; error: string | null }>`
        select state, error from task_instance_history where ${whereKey(key)} and try_number = ${tryNumber}`.execute(
        db,
      );
      return r.rows[0];
    },
    async xcom(key, xcomKey = "return_value") {
      const r = await sql<{ value: unknown }>`
        select value from xcom where ${whereKey(key)} and key = ${xcomKey}`.execute(db);
      return r.rows[0]?.value;
    },
    async close() {
      await server.close();
    },
  };
}
