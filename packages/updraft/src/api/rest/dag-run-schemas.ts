// The shapes of the DAG-run routes: Airflow 2's `DAGRun` and its collection, the list filters
// (one set for GET's query and the batch POST's body), and the bodies that change a run.
import { z } from "zod";
import { DAG_RUN_STATES, DagRunType, TASK_INSTANCE_STATES } from "../../model/states.js";
import { DateTime, Id, Page, Text, collection, orderBy } from "./common.js";
import { TI_ORDER } from "./list-task-instances.js";

export const DagRunJson = z
  .object({
    dag_run_id: z.string(),
    dag_id: z.string(),
    logical_date: z.string().nullable(),
    execution_date: z.string().nullable(),
    data_interval_start: z.string().nullable(),
    data_interval_end: z.string().nullable(),
    run_after: z.string().nullable(),
    queued_at: z.string().nullable(),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    last_scheduling_decision: z.string().nullable(),
    run_type: z.string(),
    state: z.enum(DAG_RUN_STATES),
    external_trigger: z.boolean(),
    conf: z.record(z.string(), z.unknown()),
    clear_number: z.number().int(),
    note: z.string().nullable(),
  })
  .meta({ id: "DAGRun" });
export const DagRunCollection = collection("dag_runs", DagRunJson, "DAGRunCollection");

export const TriggerBody = z
  .object({
    dag_run_id: Id.nullable().optional(),
    logical_date: DateTime.nullable().optional(),
    execution_date: DateTime.nullable().optional(),
    conf: z.record(z.string(), z.unknown()).nullable().optional(),
    note: Text.max(10_000).nullable().optional(),
  })
  .strict();

export const oneOrMany = <T extends z.ZodType>(t: T) =>
  z.union([t, z.array(t)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** `order_by` of run lists: Airflow's names (execution_date is the logical date), `-` for descending. */
export const RUN_ORDER = {
  id: "id",
  state: "state",
  dag_id: "dag_id",
  dag_run_id: "run_id",
  execution_date: "logical_date",
  logical_date: "logical_date",
  start_date: "start_date",
  end_date: "end_date",
  updated_at: "updated_at",
  run_after: "run_after",
} as const;
export const RunOrder = orderBy(RUN_ORDER, "id");

/** The date-range filters of Airflow's run lists. */
const RangeFilters = {
  execution_date_gte: DateTime.optional(),
  execution_date_lte: DateTime.optional(),
  start_date_gte: DateTime.optional(),
  start_date_lte: DateTime.optional(),
  end_date_gte: DateTime.optional(),
  end_date_lte: DateTime.optional(),
  updated_at_gte: DateTime.optional(),
  updated_at_lte: DateTime.optional(),
};
export type RunRangeFilters = { [K in keyof typeof RangeFilters]?: string | undefined };

export const RunsQuery = Page.extend({
  state: oneOrMany(z.enum(DAG_RUN_STATES)).optional(),
  order_by: RunOrder,
  ...RangeFilters,
});

/** The paging of Airflow's batch lists (in a body, not the query): `page_offset`, `page_limit`. */
const BatchPage = {
  page_offset: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  // Capped at webserver.maximum_page_limit by the server (api/page-limit.ts), as `limit` is.
  page_limit: z.number().int().min(1).default(100),
};

/** `POST /dags/~/dagRuns/list`: the same filters in a body, across DAGs. */
export const RunsBatchBody = z
  .object({
    order_by: RunOrder,
    ...BatchPage,
    dag_ids: z.array(Id).max(10_000).optional(),
    states: z.array(z.enum(DAG_RUN_STATES)).optional(),
    // Airflow 3 filters GET …/dagRuns by run_type; the batch list takes it too (Browse › DAG runs).
    run_type: z.array(z.enum(Object.values(DagRunType))).optional(),
    ...RangeFilters,
  })
  .strict();

export const PatchRunBody = z.object({ state: z.enum(["success", "failed", "queued"]) }).strict();
export const NoteBody = z.object({ note: Text.max(10_000) }).strict();
export const ClearRunBody = z.object({ dry_run: z.boolean().default(true) }).strict();

/** Airflow's task-instance list filters, for a run's list (query) and the batch POST (body). */
const TiFilters = {
  execution_date_gte: DateTime.optional(),
  execution_date_lte: DateTime.optional(),
  start_date_gte: DateTime.optional(),
  start_date_lte: DateTime.optional(),
  end_date_gte: DateTime.optional(),
  end_date_lte: DateTime.optional(),
  duration_gte: z.coerce.number().min(0).optional(),
  duration_lte: z.coerce.number().min(0).optional(),
};
export const TisQuery = Page.extend({
  state: oneOrMany(z.enum(TASK_INSTANCE_STATES)).optional(),
  pool: oneOrMany(Id).optional(),
  queue: oneOrMany(Id).optional(),
  order_by: orderBy(TI_ORDER, "dag_id"),
  ...TiFilters,
});
export const TisBatchBody = z
  .object({
    ...BatchPage,
    dag_ids: z.array(Id).max(10_000).optional(),
    dag_run_ids: z.array(Id).max(10_000).optional(),
    task_ids: z.array(Id).max(10_000).optional(),
    state: z.array(z.enum(TASK_INSTANCE_STATES)).optional(),
    pool: z.array(Id).optional(),
    queue: z.array(Id).optional(),
    order_by: orderBy(TI_ORDER, "dag_id"),
    ...TiFilters,
  })
  .strict();

/** A task instance a clear touched or would touch (Airflow's `TaskInstanceReference`, plus state). */
export const TaskInstanceReference = z
  .object({
    dag_id: z.string(),
    dag_run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    state: z.enum(TASK_INSTANCE_STATES).nullable(),
    try_number: z.number().int(),
    logical_date: z.string().nullable(),
  })
  .meta({ id: "TaskInstanceReference" });

export const ClearBody = z
  .object({
    dry_run: z.boolean().default(true),
    task_ids: z.array(Id).max(10_000).nullable().optional(),
    dag_run_id: Id.nullable().optional(),
    start_date: DateTime.nullable().optional(),
    end_date: DateTime.nullable().optional(),
    only_failed: z.boolean().default(true),
    only_running: z.boolean().default(false),
    include_downstream: z.boolean().default(false),
    include_upstream: z.boolean().default(false),
  })
  .strict();

export const ClearResultJson = z
  .object({
    task_instances: z.array(TaskInstanceReference),
    dag_runs_requeued: z.array(z.string()),
    dry_run: z.boolean(),
  })
  .meta({ id: "TaskInstanceReferenceCollection" });
