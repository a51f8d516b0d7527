import type { DagRunAccessor } from "./dag-runs.js";
import type { HookAccessor } from "./hooks.js";

/** A connection as stored by Updraft (Airflow's fields), handed to a task that asks for it. */
export interface Connection {
  conn_id: string;
  conn_type: string;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: Record<string, unknown>;
  /** The connection in Airflow's URI form, e.g. `postgres://user:pass@host:5432/db`. */
  getUri(): string;
}

/** The DAG run a task instance belongs to. */
export interface DagRunInfo {
  dag_id: string;
  run_id: string;
  run_type: "scheduled" | "manual" | "backfill" | "asset_triggered";
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
  /** The `conf` the run was triggered with (`{}` for scheduled runs). */
  conf: Record<string, unknown>;
  start_date: Date | null;
}

/** An asset update that triggered the run (Airflow's AssetEvent, as `triggering_asset_events` holds it). */
export interface TriggeringAssetEvent {
  id: number;
  uri: string;
  asset: { uri: string; name: string; group: string; extra: Record<string, unknown> };
  /** What the producing task (or the API call) gave the event. */
  extra: Record<string, unknown>;
  timestamp: Date;
  source_dag_id: string | null;
  source_run_id: string | null;
  source_task_id: string | null;
  source_map_index: number;
}

/** What a task may add to the event of one of its outlets (Airflow's `outlet_events[asset]`). */
export interface OutletEventAccessor {
  /** JSON facts stored with the asset event this success records. */
  extra: Record<string, unknown>;
}

/** The running task instance: ids, the current try, and XCom access. */
export interface TaskInstanceInfo {
  dag_id: string;
  task_id: string;
  run_id: string;
  /** -1 for an unmapped task, 0… for each mapped instance. */
  map_index: number;
  /** 1 for the first try, 2 for the first retry, and so on. */
  try_number: number;
  /** How many tries the task has in all (retries + 1). */
  max_tries: number;
  hostname: string;
  /** Reads a value another task pushed (default key `return_value`). */
  xcomPull<T = unknown>(
    taskId: string,
    options?: { key?: string; mapIndex?: number },
  ): Promise<T | undefined>;
  /** Stores a value for downstream tasks under `key` (the return value is pushed as `return_value`). */
  xcomPush(key: string, value: unknown): Promise<void>;
}

/** Variables: `await ctx.var.get("threshold")`. */
export interface VariableAccessor {
  get(key: string, defaultValue?: string): Promise<string>;
  getJson<T = unknown>(key: string, defaultValue?: T): Promise<T>;
}

/** Connections: `await ctx.conn.get("warehouse")`. */
export interface ConnectionAccessor {
  get(connId: string): Promise<Connection>;
}

/** Airflow's template macros, also available as `{{ macros.ds_add(ds, 7) }}` in templates. */
export interface Macros {
  /** Adds (or subtracts) days to a `YYYY-MM-DD` date string. */
  ds_add(ds: string, days: number): string;
  /** Reformats a date string from one strftime format to another. */
  ds_format(ds: string, inputFormat: string, outputFormat: string): string;
}

/**
 * What a running task knows about its run, with Airflow's names. A TaskFlow function receives it
 * as its first argument; templated fields see the same names (`{{ ds }}`, `{{ ti.try_number }}`).
 *
 * @example
 * ```ts
 * const extract = task("extract", (ctx) => {
 *   console.log(`Extracting for ${ctx.ds}, try ${ctx.ti.try_number}`);
 * });
 * ```
 */
export interface TaskContext<P extends Record<string, unknown> = Record<string, unknown>> {
  /** The logical date as `YYYY-MM-DD`. */
  ds: string;
  /** The logical date as `YYYYMMDD`. */
  ds_nodash: string;
  /** The logical date as an ISO 8601 timestamp. */
  ts: string;
  /** The logical date as `YYYYMMDDTHHMMSS`. */
  ts_nodash: string;
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
  run_id: string;
  dag_run: DagRunInfo;
  ti: TaskInstanceInfo;
  /** Same object as `ti`. */
  task_instance: TaskInstanceInfo;
  /** The DAG's params after the run's `conf` was applied and validated. */
  params: P;
  var: VariableAccessor;
  conn: ConnectionAccessor;
  /**
   * Typed hooks on connections, loaded on first use and closed when the try ends:
   * `await ctx.hooks.postgres("warehouse").query("select 1")`, `ctx.hooks.http("api").run("/x")`.
   */
  hooks: HookAccessor;
  /**
   * Other DAGs' runs: trigger, clear, read, count states (what TriggerDagRunOperator and
   * ExternalTaskSensor use): `await ctx.dagRuns.trigger({ dagId: "report" })`.
   */
  dagRuns: DagRunAccessor;
  macros: Macros;
  dag: { dag_id: string };
  task: { task_id: string; task_group_id: string | null };
  /**
   * The asset events that triggered this run, by asset URI (Airflow's `triggering_asset_events`;
   * `{}` for a run not triggered by assets). Templates see it too.
   */
  triggering_asset_events: Record<string, TriggeringAssetEvent[]>;
  /** Same object as `triggering_asset_events`. */
  triggeringAssetEvents: Record<string, TriggeringAssetEvent[]>;
  /**
   * The event a success of this task records for one of its outlets (an asset or its URI):
   * `ctx.outletEvents(orders).extra = { rows: 42 }`. Throws for an asset that is not an outlet.
   */
  outletEvents(asset: { uri: string } | string): OutletEventAccessor;
  /**
   * In failure and retry callbacks: the error that ended the try, as its log shows it (Airflow's
   * `context["exception"]`). Absent elsewhere.
   */
  exception?: string;
  /**
   * In a TaskFlow task resumed after `deferTask`: the trigger's event payload. Absent in the run
   * that deferred (decision 0030).
   */
  trigger_event?: unknown;
}
