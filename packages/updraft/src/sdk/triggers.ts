// Triggers a deferred task waits on (decision 0030). A trigger is data — a classpath and JSON
// kwargs stored in the `trigger` table — so the triggerer can run it without the DAG file: the
// built-in ones live in src/triggerer/, a user-written one is a module of its own (defineTrigger)
// that the triggerer imports alone, never the DAG file that refers to it.
import { parseDuration, type Duration } from "../common/duration.js";
import { UpdraftError } from "../common/errors.js";

/** A trigger as stored: what runs it and its arguments (JSON). */
export interface TriggerSpec {
  classpath: string;
  kwargs: Record<string, unknown>;
}

/** What a trigger's event carries to the resumed task (JSON). */
export type TriggerEventPayload = unknown;

/** Classpaths of the built-in triggers (the triggerer's src/triggerer/builtin/). */
export const BUILTIN_TRIGGERS = {
  dateTime: "updraft.triggers.DateTimeTrigger",
  file: "updraft.triggers.FileTrigger",
  http: "updraft.triggers.HttpTrigger",
  sql: "updraft.triggers.SqlTrigger",
  externalTask: "updraft.triggers.ExternalTaskTrigger",
  dagRunState: "updraft.triggers.DagRunStateTrigger",
  s3Key: "updraft.triggers.S3KeyTrigger",
} as const;

/** The prefix of a user-written trigger's classpath: `module:<absolute path>#<export>`. */
export const USER_TRIGGER_PREFIX = "module:";

/** Arguments of {@link triggers.externalTask} (the ExternalTaskSensor's trigger). */
export interface ExternalTaskTriggerKwargs {
  dagId: string;
  /** Task ids to watch; without them the DAG runs' own states are watched. */
  taskIds?: string[];
  /** ISO 8601 logical dates of the runs to watch (one of logicalDates or runIds). */
  logicalDates?: string[];
  runIds?: string[];
  /** Done when every watched instance (or run) is in one of these. Default `["success"]`. */
  allowedStates?: string[];
  /** Fails when any watched instance (or run) is in one of these. Default none. */
  failedStates?: string[];
  /** Seconds between database checks. Default 5. */
  pokeIntervalS?: number;
}

function iso(moment: Date | string): string {
  const d = moment instanceof Date ? moment : new Date(moment);
  if (Number.isNaN(d.getTime()))
    throw new UpdraftError(
      "TRIGGER_INVALID",
      `${JSON.stringify(moment)} is not a date: give a Date or an ISO 8601 text.`,
    );
  return d.toISOString();
}

/**
 * The built-in triggers. Each event's payload is `{ status: "success" | "failed", … }`.
 *
 * @example
 * ```ts
 * this.defer({ trigger: triggers.dateTime("2030-01-01T06:00:00Z"), method: "executeComplete" });
 * ```
 */
export const triggers = {
  /** Fires at `moment` (Airflow's DateTimeTrigger). Payload `{ status: "success", moment }`. */
  dateTime(moment: Date | string): TriggerSpec {
    return { classpath: BUILTIN_TRIGGERS.dateTime, kwargs: { moment: iso(moment) } };
  },
  /** Fires `delta` from now (Airflow's TimeDeltaTrigger, stored as a DateTimeTrigger). */
  timeDelta(delta: Duration): TriggerSpec {
    return triggers.dateTime(new Date(Date.now() + parseDuration(delta, "timeDelta trigger: delta")));
  },
  /** Fires when a file matching the absolute path or glob exists. Payload `{ status: "success", paths }`. */
  file(o: { filepath: string; recursive?: boolean; pokeIntervalS?: number }): TriggerSpec {
    return { classpath: BUILTIN_TRIGGERS.file, kwargs: { ...o } };
  },
  /**
   * Fires when the endpoint answers 2xx (statuses in `notYetStatuses`, default 404, mean "not
   * yet"; others fail). The connection is read by the triggerer. Payload `{ status, httpStatus, body }`.
   */
  http(o: {
    httpConnId: string;
    endpoint: string;
    method?: string;
    headers?: Record<string, string>;
    data?: unknown;
    notYetStatuses?: string[];
    pokeIntervalS?: number;
  }): TriggerSpec {
    return { classpath: BUILTIN_TRIGGERS.http, kwargs: { ...o } };
  },
  /**
   * Fires when the query's first cell is truthy (Python's rules, as SqlSensor); `failOnEmpty`
   * fails on no rows. The connection is read by the triggerer. Payload `{ status, value }`.
   */
  sql(o: {
    connId: string;
    sql: string;
    parameters?: unknown[];
    failOnEmpty?: boolean;
    pokeIntervalS?: number;
  }): TriggerSpec {
    return { classpath: BUILTIN_TRIGGERS.sql, kwargs: { ...o } };
  },
  /**
   * Fires when every key exists (S3KeySensor's check: wildcards, regular expressions). The
   * connection is read by the triggerer. Payload `{ status: "success", files }`.
   */
  s3Key(o: {
    awsConnId: string;
    bucketKey: string | string[];
    bucketName?: string;
    wildcardMatch?: boolean;
    useRegex?: boolean;
    pokeIntervalS?: number;
  }): TriggerSpec {
    return { classpath: BUILTIN_TRIGGERS.s3Key, kwargs: { ...o } };
  },
  /**
   * Fires when the watched task instances (or, without taskIds, DAG runs) of another DAG are all
   * in `allowedStates`, or one is in `failedStates`. Payload `{ status: "success" | "failed", states }`.
   */
  externalTask(o: ExternalTaskTriggerKwargs): TriggerSpec {
    if ((o.logicalDates?.length ?? 0) === 0 && (o.runIds?.length ?? 0) === 0)
      throw new UpdraftError(
        "TRIGGER_INVALID",
        `externalTask trigger on DAG "${o.dagId}": give logicalDates or runIds (the runs to watch).`,
      );
    return { classpath: BUILTIN_TRIGGERS.externalTask, kwargs: { ...o } };
  },
  /** {@link triggers.externalTask} without task ids: the runs' own states (TriggerDagRunOperator's wait). */
  dagRunState(o: Omit<ExternalTaskTriggerKwargs, "taskIds">): TriggerSpec {
    if ((o.logicalDates?.length ?? 0) === 0 && (o.runIds?.length ?? 0) === 0)
      throw new UpdraftError(
        "TRIGGER_INVALID",
        `dagRunState trigger on DAG "${o.dagId}": give logicalDates or runIds (the runs to watch).`,
      );
    return { classpath: BUILTIN_TRIGGERS.dagRunState, kwargs: { ...o } };
  },
};

/** What a user-written trigger's `run` is given. */
export interface TriggerRunContext {
  /** Aborted when the trigger is no longer wanted (the task was cleared, the triggerer stops). */
  signal: AbortSignal;
  /** A line in the triggerer's log, tagged with the trigger id. */
  log(message: string): void;
}

/** A user-written trigger, the default (or a named) export of its own module. */
export interface UserTriggerDefinition<K extends Record<string, unknown> = Record<string, unknown>> {
  readonly kind: "updraft.trigger";
  /** Waits for the condition and resolves with the event's payload (JSON). */
  run(kwargs: K, ctx: TriggerRunContext): Promise<TriggerEventPayload>;
}

/**
 * Defines a trigger in a module of its own; the triggerer imports only that module (and what it
 * imports), never a DAG file — keep it free of DAG code. Refer to it from a task with
 * {@link userTrigger}.
 *
 * @example
 * ```ts
 * // dags/triggers/flag.ts
 * export default defineTrigger<{ path: string }>(async ({ path }, { signal }) => {
 *   while (!existsSync(path)) await sleep(1000, undefined, { signal });
 *   return { status: "success" };
 * });
 * ```
 */
export function defineTrigger<K extends Record<string, unknown>>(
  run: (kwargs: K, ctx: TriggerRunContext) => Promise<TriggerEventPayload>,
): UserTriggerDefinition<K> {
  return { kind: "updraft.trigger", run };
}

/**
 * A trigger written with {@link defineTrigger}: `module` is its file, relative to the DAG file
 * that defers (or absolute); `exportName` the export (default `"default"`).
 */
export function userTrigger(
  module: string,
  kwargs: Record<string, unknown> = {},
  exportName = "default",
): TriggerSpec {
  if (module.trim() === "" || module.includes("#"))
    throw new UpdraftError("TRIGGER_INVALID", `userTrigger: ${JSON.stringify(module)} is not a module path.`);
  return { classpath: `${USER_TRIGGER_PREFIX}${module}#${exportName}`, kwargs };
}
