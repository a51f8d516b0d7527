// Builds the TaskContext a task receives, from the start response: Airflow's names, dates as Date
// objects in UTC, and XCom, variables and connections read over the execution API with the try's
// token. Secrets read here are added to the masker before the task can print them.
import { hostname } from "node:os";
import { UpdraftError } from "../common/errors.js";
import type { ConnectionPayload, StartResponse, TaskInstanceKey } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import { normalizeAssetUri } from "../model/asset-condition.js";
import { connEnvName } from "../model/env-connection.js";
import type {
  Connection,
  DagRunInfo,
  OutletEventAccessor,
  TaskContext,
  TaskInstanceInfo,
  TriggeringAssetEvent,
} from "../sdk/context.js";
import type { Dag } from "../sdk/dag.js";
import { createHooks } from "../sdk/hooks.js";
import type { ExecutionApiClient } from "./api-client.js";
import { dagRunAccessor } from "./dag-run-access.js";
import { dsAdd, dsFormat, toDs, toTs, toTsNodash } from "./dates.js";
import { isSensitiveKey, type SecretMasker } from "./masker.js";

export const HOSTNAME = hostname();

export interface ContextInput {
  ti: TaskInstanceKey;
  tryNumber: number;
  start: StartResponse;
  dag: Dag;
  task: BaseOperator | null;
  client: ExecutionApiClient;
  masker: SecretMasker;
}

function parseDate(text: string, name: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new UpdraftError(
      "INVALID_START_RESPONSE",
      `The API server sent an invalid ${name}: ${JSON.stringify(text)}.`,
    );
  return d;
}

/** "task_id|key|map_index", the key of StartResponse.prefetched_xcoms. */
export function prefetchKey(taskId: string, key: string, mapIndex: number | null): string {
  return `${taskId}|${key}|${mapIndex ?? ""}`;
}

/** Reads XComs: prefetched ones first, then the API. A mapped producer's values come as one list. */
export class XComReader {
  private readonly input: ContextInput;
  constructor(input: ContextInput) {
    this.input = input;
  }

  /** Whether `taskId` is mapped, in which case its values are read all together (map_index null). */
  defaultMapIndex(taskId: string): number | null {
    return this.input.dag.getTask(taskId)?.mapped ? null : -1;
  }

  async pull(
    taskId: string,
    key = "return_value",
    mapIndex: number | null = this.defaultMapIndex(taskId),
  ): Promise<unknown> {
    const prefetched = this.input.start.prefetched_xcoms;
    const pk = prefetchKey(taskId, key, mapIndex);
    if (prefetched !== undefined && Object.hasOwn(prefetched, pk)) return prefetched[pk];
    return this.input.client.xcomGet(this.input.ti, taskId, key, mapIndex);
  }
}

function toConnection(p: ConnectionPayload): Connection {
  return {
    ...p,
    getUri() {
      const auth =
        p.login !== null || p.password !== null
          ? `${encodeURIComponent(p.login ?? "")}${p.password !== null ? `:${encodeURIComponent(p.password)}` : ""}@`
          : "";
      const port = p.port !== null ? `:${p.port}` : "";
      const schema = p.schema !== null && p.schema !== "" ? `/${encodeURIComponent(p.schema)}` : "";
      const extras = Object.entries(p.extra).filter(([, v]) => v !== null && typeof v !== "object");
      const query =
        extras.length > 0
          ? `?${new URLSearchParams(extras.map(([k, v]) => [k, String(v)] as [string, string])).toString()}`
          : "";
      return `${p.conn_type.replace(/_/g, "-")}://${auth}${p.host ?? ""}${port}${schema}${query}`;
    },
  };
}

/** Reads a variable, masking it when its key says it is a secret. */
export async function readVariable(input: ContextInput, key: string): Promise<string | undefined> {
  const value = await input.client.variable(key);
  if (value !== undefined && isSensitiveKey(key)) input.masker.add(value);
  return value;
}

/** Reads a connection and masks its password and secret extras. */
export async function readConnection(input: ContextInput, connId: string): Promise<Connection | undefined> {
  const payload = await input.client.connection(connId);
  if (payload === undefined) return undefined;
  input.masker.add(payload.password);
  for (const [k, v] of Object.entries(payload.extra))
    if (isSensitiveKey(k) && typeof v === "string") input.masker.add(v);
  return toConnection(payload);
}

/** The extra each outlet's event got from the task body, by context (read when the try succeeds). */
const outletExtras = new WeakMap<TaskContext, Map<string, OutletEventAccessor>>();

/** The `outlet_events` of a finish request: the extra the task gave its outlets' events (decision 0031). */
export function outletEventsOf(ctx: TaskContext): { uri: string; extra: Record<string, unknown> }[] {
  const events = outletExtras.get(ctx);
  if (events === undefined) return [];
  return [...events]
    .filter(([, e]) => Object.keys(e.extra).length > 0)
    .map(([uri, e]) => ({
      uri,
      extra: jsonSafe(e.extra, `the extra of asset "${uri}"`) as Record<string, unknown>,
    }));
}

function triggeringEvents(run: StartResponse["dag_run"]): Record<string, TriggeringAssetEvent[]> {
  const out: Record<string, TriggeringAssetEvent[]> = {};
  for (const e of run.triggering_asset_events ?? []) {
    (out[e.uri] ??= []).push({
      id: e.id,
      uri: e.uri,
      asset: { uri: e.uri, name: e.name, group: e.group, extra: e.asset_extra },
      extra: e.extra,
      timestamp: parseDate(e.timestamp, "asset event timestamp"),
      source_dag_id: e.source_dag_id,
      source_run_id: e.source_run_id,
      source_task_id: e.source_task_id,
      source_map_index: e.source_map_index,
    });
  }
  return out;
}

export function buildContext(input: ContextInput): TaskContext {
  const { start, ti, tryNumber, client, task } = input;
  const run = start.dag_run;
  const extras = new Map<string, OutletEventAccessor>();
  const outletUris = new Set((task?.options.outlets ?? []).map((a) => a.uri));
  const triggering = triggeringEvents(run);
  const logicalDate = parseDate(run.logical_date, "logical_date");
  const dagRun: DagRunInfo = {
    dag_id: run.dag_id,
    run_id: run.run_id,
    run_type: run.run_type,
    logical_date: logicalDate,
    data_interval_start: parseDate(run.data_interval_start, "data_interval_start"),
    data_interval_end: parseDate(run.data_interval_end, "data_interval_end"),
    conf: run.conf,
    start_date: run.start_date === null ? null : parseDate(run.start_date, "start_date"),
  };
  const reader = new XComReader(input);
  const conn = {
    async get(connId: string): Promise<Connection> {
      const c = await readConnection(input, connId);
      if (c === undefined)
        throw new UpdraftError(
          "CONNECTION_NOT_FOUND",
          `Connection "${connId}" does not exist. Create it with \`updraft connections add ${connId} ...\`, or set ${connEnvName(connId)} in the environment of the API server.`,
        );
      return c;
    },
  };
  const tiInfo: TaskInstanceInfo = {
    dag_id: ti.dag_id,
    task_id: ti.task_id,
    run_id: ti.run_id,
    map_index: ti.map_index,
    try_number: tryNumber,
    max_tries: start.max_tries,
    hostname: HOSTNAME,
    async xcomPull<T>(
      taskId: string,
      options: { key?: string; mapIndex?: number } = {},
    ): Promise<T | undefined> {
      return (await reader.pull(
        taskId,
        options.key ?? "return_value",
        options.mapIndex ?? reader.defaultMapIndex(taskId),
      )) as T | undefined;
    },
    async xcomPush(key: string, value: unknown): Promise<void> {
      await client.xcomPush(key, jsonSafe(value, `XCom "${key}"`));
    },
  };
  const ctx: TaskContext = {
    ds: toDs(logicalDate),
    ds_nodash: toDs(logicalDate).replace(/-/g, ""),
    ts: toTs(logicalDate),
    ts_nodash: toTsNodash(logicalDate),
    logical_date: logicalDate,
    data_interval_start: dagRun.data_interval_start,
    data_interval_end: dagRun.data_interval_end,
    run_id: run.run_id,
    dag_run: dagRun,
    ti: tiInfo,
    task_instance: tiInfo,
    params: start.params,
    var: {
      async get(key: string, defaultValue?: string): Promise<string> {
        const v = await readVariable(input, key);
        if (v !== undefined) return v;
        if (defaultValue !== undefined) return defaultValue;
        throw new UpdraftError(
          "VARIABLE_NOT_FOUND",
          `Variable "${key}" does not exist. Create it (updraft variables set ${key} VALUE) or pass a default: ctx.var.get("${key}", "fallback").`,
        );
      },
      async getJson<T>(key: string, defaultValue?: T): Promise<T> {
        const v = await readVariable(input, key);
        if (v === undefined) {
          if (defaultValue !== undefined) return defaultValue;
          throw new UpdraftError(
            "VARIABLE_NOT_FOUND",
            `Variable "${key}" does not exist. Create it or pass a default: ctx.var.getJson("${key}", {}).`,
          );
        }
        try {
          return JSON.parse(v) as T;
        } catch {
          throw new UpdraftError(
            "VARIABLE_NOT_JSON",
            `Variable "${key}" is not valid JSON; read it with ctx.var.get("${key}") instead.`,
          );
        }
      },
    },
    conn,
    hooks: createHooks(conn),
    dagRuns: dagRunAccessor(client),
    macros: { ds_add: dsAdd, ds_format: dsFormat },
    dag: { dag_id: run.dag_id },
    task: { task_id: ti.task_id, task_group_id: task?.group?.groupId ?? null },
    triggering_asset_events: triggering,
    triggeringAssetEvents: triggering,
    outletEvents(asset: { uri: string } | string): OutletEventAccessor {
      const uri = typeof asset === "string" ? normalizeAssetUri(asset) : asset.uri;
      if (!outletUris.has(uri))
        throw new UpdraftError(
          "ASSET_INVALID",
          `Asset "${uri}" is not an outlet of task "${ti.task_id}". Add it to the task's outlets to give its event extra.`,
        );
      let e = extras.get(uri);
      if (e === undefined) extras.set(uri, (e = { extra: {} }));
      return e;
    },
  };
  outletExtras.set(ctx, extras);
  return ctx;
}

/** The value as it will travel (JSON), or a clear error for what JSON cannot carry. */
export function jsonSafe(value: unknown, what: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new UpdraftError(
      "XCOM_NOT_SERIALIZABLE",
      `${what} cannot be stored: ${err instanceof Error ? err.message : String(err)}. Return plain JSON data (objects, arrays, strings, numbers, booleans, null).`,
    );
  }
  if (text === undefined) {
    throw new UpdraftError(
      "XCOM_NOT_SERIALIZABLE",
      `${what} cannot be stored: a ${typeof value} is not JSON. Return plain JSON data.`,
    );
  }
  return JSON.parse(text) as unknown;
}
