// Shared by the API tests: serialized DAGs written by hand, task instances queued the way the
// scheduler queues them (try_number + 1, a token signed for that try), and a server on a test database.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import { signToken } from "../../src/common/signed-token.js";
import { loadConfig, type UpdraftConfig } from "../../src/config/index.js";
import { generateFernetKey, getUser, saveDag, userByApiToken, type Database } from "../../src/db/index.js";
import { createApiToken, createUser, secretHash, triggerDagRun } from "../../src/services/index.js";
import { EngineEvents, type EngineEvent } from "../../src/events/engine-events.js";
import type { TaskInstanceKey, TokenClaims } from "../../src/model/execution-api.js";
import {
  SerializedDagSchema,
  type SerializedDag,
  type SerializedTask,
} from "../../src/model/serialized-dag.js";

export const SECRET = "test-secret-key-0123456789abcdef";
export const API_TOKEN = "test-api-token";

export interface TaskSpec {
  id: string;
  upstream?: string[];
  retries?: number;
  retryDelayMs?: number;
  backoff?: boolean;
  fields?: Record<string, unknown>;
  expand?: Record<string, unknown> | null;
  operator?: string;
  teardown?: boolean;
  /** Addresses told of a failure and a retry (emailOnFailure and emailOnRetry on). */
  email?: string[];
  /** Any other serialized field (trigger_rule, pool, depends_on_past, max_active_tis_per_dag…). */
  task?: Partial<SerializedTask>;
}

/** A valid serialized DAG with the given tasks (downstream lists derived from upstream ones). */
export function makeDag(dagId: string, specs: TaskSpec[], extra: Partial<SerializedDag> = {}): SerializedDag {
  const tasks: SerializedTask[] = specs.map((s) => ({
    task_id: s.id,
    operator: s.operator ?? "@task",
    task_group_id: null,
    upstream_task_ids: s.upstream ?? [],
    downstream_task_ids: specs.filter((o) => (o.upstream ?? []).includes(s.id)).map((o) => o.id),
    trigger_rule: "all_success",
    owner: "airflow",
    retries: s.retries ?? 0,
    retry_delay_ms: s.retryDelayMs ?? 300_000,
    retry_exponential_backoff: s.backoff ?? false,
    max_retry_delay_ms: null,
    execution_timeout_ms: null,
    pool: "default_pool",
    pool_slots: 1,
    priority_weight: 1,
    weight_rule: "downstream",
    queue: "default",
    sla_ms: null,
    email: s.email ?? [],
    email_on_failure: s.email !== undefined,
    email_on_retry: s.email !== undefined,
    has_on_failure_callback: false,
    has_on_success_callback: false,
    has_on_retry_callback: false,
    has_on_execute_callback: false,
    has_on_skipped_callback: false,
    executor_config: {},
    max_active_tis_per_dag: null,
    max_active_tis_per_dagrun: null,
    depends_on_past: false,
    ignore_first_depends_on_past: true,
    wait_for_downstream: false,
    ignore_downstream_trigger_rules: true,
    on_failure_fail_dagrun: false,
    fresh_process: false,
    start_date: null,
    end_date: null,
    do_xcom_push: true,
    multiple_outputs: false,
    map_index_template: null,
    doc_md: null,
    is_setup: false,
    is_teardown: s.teardown ?? false,
    branch_kind:
      s.operator === "@task.branch"
        ? "branch"
        : s.operator === "@task.short_circuit"
          ? "short_circuit"
          : null,
    template_fields: [],
    fields: (s.fields ?? {}) as SerializedTask["fields"],
    expand: (s.expand ?? null) as SerializedTask["expand"],
    ...s.task,
  }));
  const body = {
    __version: 1 as const,
    dag_id: dagId,
    fileloc: `/dags/${dagId}.ts`,
    description: null,
    schedule: null,
    timetable_summary: "None",
    timezone: null,
    start_date: "2024-01-01T00:00:00.000Z",
    end_date: null,
    catchup: false,
    max_active_runs: null,
    max_active_tasks: null,
    dagrun_timeout_ms: null,
    tags: [],
    owners: ["airflow"],
    params: {},
    doc_md: null,
    has_on_success_callback: false,
    has_on_failure_callback: false,
    has_sla_miss_callback: false,
    is_paused_upon_creation: null,
    task_groups: [],
    tasks,
    ...extra,
  };
  const dagHash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
  return SerializedDagSchema.parse({ ...body, dag_hash: dagHash });
}

export async function saveTestDag(database: Database, dag: SerializedDag): Promise<void> {
  await saveDag(
    database.db,
    { dagId: dag.dag_id, fileloc: dag.fileloc, isPausedAtCreation: false },
    { data: JSON.parse(JSON.stringify(dag)), dagHash: dag.dag_hash },
  );
}

export interface Queued {
  claims: TokenClaims;
  token: string;
  auth: { authorization: string };
}

export function tokenFor(
  key: TaskInstanceKey,
  tryNumber: number,
  o: { expIn?: number; scope?: "task" | "callback" } = {},
): Queued {
  const claims: TokenClaims = {
    ti: key,
    try_number: tryNumber,
    exp: Math.floor(Date.now() / 1000) + (o.expIn ?? 3600),
    scope: o.scope ?? "task",
  };
  const token = signToken(claims, SECRET);
  return { claims, token, auth: { authorization: `Bearer ${token}` } };
}

/** Queues a task instance for its next try as the scheduler does, and mints that try's token. */
export async function queueTi(database: Database, key: TaskInstanceKey): Promise<Queued> {
  const r = await sql<{ try_number: number }>`
    update task_instance set state = 'queued', try_number = try_number + 1, queued_dttm = now()
    where dag_id = ${key.dag_id} and run_id = ${key.run_id} and task_id = ${key.task_id} and map_index = ${key.map_index}
    returning try_number`.execute(database.db);
  const row = r.rows[0];
  if (row === undefined) throw new Error(`no task instance ${JSON.stringify(key)}`);
  return tokenFor(key, row.try_number);
}

export async function tiRow(database: Database, key: TaskInstanceKey) {
  return database.db
    .selectFrom("task_instance")
    .selectAll()
    .where("dag_id", "=", key.dag_id)
    .where("run_id", "=", key.run_id)
    .where("task_id", "=", key.task_id)
    .where("map_index", "=", key.map_index)
    .executeTakeFirstOrThrow();
}

export interface TestServer {
  server: ApiServer;
  config: UpdraftConfig;
  events: EngineEvents;
  seen: EngineEvent[];
}

/**
 * A user holding `role` with the API token `token`, made once per database (idempotent): how
 * tests authenticate to the REST API.
 */
export async function seedUserWithToken(
  database: Database,
  username: string,
  role: string,
  token: string,
): Promise<void> {
  if ((await getUser(database.db, username)) === undefined) {
    await createUser(database.db, {
      username,
      email: `${username}@example.com`,
      password: `${username}-password-1`,
      roles: [role],
    });
  }
  if ((await userByApiToken(database.db, secretHash(token))) === undefined)
    await createApiToken(database.db, username, { token });
}

export async function startTestServer(
  database: Database,
  o: { apiToken?: string; xcomMaxSize?: number; overrides?: Record<string, unknown> } = {},
): Promise<TestServer> {
  // The REST API's token belongs to an Admin, so that tests of the API itself may do everything.
  await seedUserWithToken(database, "test-admin", "Admin", o.apiToken ?? API_TOKEN);
  const home = mkdtempSync(join(tmpdir(), "updraft-api-test-"));
  const config = loadConfig({
    home,
    env: {},
    overrides: {
      "core.fernet_key": generateFernetKey(),
      ...(o.xcomMaxSize === undefined ? {} : { "core.xcom_max_size": o.xcomMaxSize }),
      ...o.overrides,
    },
  });
  const events = new EngineEvents(null);
  const seen: EngineEvent[] = [];
  events.on((e) => seen.push(e));
  const server = createApiServer({
    database,
    config,
    events,
    secretKey: SECRET,
  });
  return { server, config, events, seen };
}

/** A manual run of `dagId` at `logicalDate` with its task instances, as `POST …/dagRuns` makes it. */
export async function triggerTestRun(database: Database, dagId: string, logicalDate: string): Promise<void> {
  await triggerDagRun(
    database.db,
    { dagId, conf: {}, runId: null, logicalDate, note: null, owner: "test" },
    { events: null, defaultTimezone: "UTC" },
  );
}
