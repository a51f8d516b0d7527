// The execution API's control routes (api/execution/control.ts): a running task triggers, clears
// and reads other DAGs' runs (TriggerDagRunOperator) and counts other DAGs' task instances or runs
// in given states (ExternalTaskSensor). Shared by the server and the runner, so both read the
// same shapes (decision 0033).
import { z } from "zod";

/** A DAG run as a control route answers it. */
export const ControlDagRunSchema = z.object({
  dag_id: z.string(),
  run_id: z.string(),
  state: z.string(),
  run_type: z.string(),
  logical_date: z.string().nullable(),
  /** How many times the run was cleared (0 for a fresh run). */
  clear_number: z.number().int(),
});
export type ControlDagRun = z.infer<typeof ControlDagRunSchema>;

export const ControlTriggerRequestSchema = z.object({
  run_id: z.string().min(1).max(250).nullable().optional(),
  /** ISO 8601; default the database's now(). */
  logical_date: z.string().min(1).nullable().optional(),
  conf: z.record(z.string(), z.unknown()).optional(),
  note: z.string().max(1000).nullable().optional(),
});
export type ControlTriggerRequest = z.infer<typeof ControlTriggerRequestSchema>;

/** What `POST /execution/control/states/:dagId` counts (tasks of runs, or runs themselves). */
export const ControlStatesRequestSchema = z.object({
  /** Tasks to count; with neither this nor `task_group_id`, the DAG runs are counted. */
  task_ids: z.array(z.string().min(1)).max(1000).optional(),
  /** Every task in this group (nested groups included). */
  task_group_id: z.string().min(1).optional(),
  /** ISO 8601 logical dates of the runs to look at. */
  logical_dates: z.array(z.string().min(1)).min(1).max(1000),
  states: z.array(z.string().min(1)).min(1).max(20),
  /** Fail with DAG_NOT_FOUND / TASK_NOT_FOUND when the DAG or a task does not exist. */
  check_existence: z.boolean().optional(),
});
export type ControlStatesRequest = z.infer<typeof ControlStatesRequestSchema>;

export const ControlStatesResponseSchema = z.object({
  /** How many (task, logical date) pairs — or runs — there are to wait for. */
  expected: z.number().int(),
  /** Pairs whose every instance (all map indexes) is in one of the states; runs in the states. */
  all: z.number().int(),
  /** Pairs with at least one instance in the states; runs in the states. */
  any: z.number().int(),
});
export type ControlStatesResponse = z.infer<typeof ControlStatesResponseSchema>;
