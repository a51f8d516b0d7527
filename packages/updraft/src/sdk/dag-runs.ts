// Other DAGs' runs, as a running task sees them (`ctx.dagRuns`): trigger, clear, read, and count
// task instances or runs in given states. TriggerDagRunOperator and ExternalTaskSensor are built on
// it; the runner implements it over the execution API with the try's token (decision 0033).

/** A DAG run as the execution API reports it. */
export interface DagRunStatus {
  dag_id: string;
  run_id: string;
  /** `queued`, `running`, `success` or `failed`. */
  state: string;
  run_type: string;
  /** ISO 8601, or null. */
  logical_date: string | null;
  /** How many times the run was cleared. */
  clear_number: number;
}

export interface TriggerRunRequest {
  dagId: string;
  /** Default `manual__<logical date>`. */
  runId?: string | null;
  /** Default now (the server's clock). */
  logicalDate?: Date | string | null;
  /** The run's conf: a JSON object, checked against the DAG's params. */
  conf?: Record<string, unknown>;
  note?: string | null;
}

/** What to count: the task instances of tasks (or of a group), or the runs, at logical dates. */
export interface StateCountQuery {
  dagId: string;
  /** Tasks to count; with neither this nor `taskGroupId`, the DAG runs are counted. */
  taskIds?: readonly string[];
  taskGroupId?: string;
  logicalDates: readonly Date[];
  states: readonly string[];
  /** Fail (DAG_NOT_FOUND, TASK_NOT_FOUND) when the DAG or a task does not exist. */
  checkExistence?: boolean;
}

export interface StateCounts {
  /** Pairs of (task, logical date) — or runs — there are to wait for. */
  expected: number;
  /** Pairs whose every instance (each map index) is in the states; runs in the states. */
  all: number;
  /** Pairs with at least one instance in the states; runs in the states. */
  any: number;
}

/**
 * `ctx.dagRuns`. `trigger` fails with DAG_RUN_EXISTS when the run id or logical date is taken;
 * the error's `details.run_id` names that run.
 */
export interface DagRunAccessor {
  trigger(request: TriggerRunRequest): Promise<DagRunStatus>;
  /** Clears every task instance of the run, so that it runs again (not the task's own run). */
  clear(dagId: string, runId: string): Promise<DagRunStatus>;
  get(dagId: string, runId: string): Promise<DagRunStatus>;
  countStates(query: StateCountQuery): Promise<StateCounts>;
}
