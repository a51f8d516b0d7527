// One query for every list of task instances (a run's, and the batch POST across runs and DAGs)
// with Airflow's filters, a stable order, and the total under the same filters.
import { sql } from "kysely";
import type { Executor, TaskInstanceRow } from "../../db/index.js";
import type { TaskInstanceState } from "../../model/states.js";
import { sortOf } from "./common.js";

export interface TiListFilters {
  dag_ids?: readonly string[] | undefined;
  dag_run_ids?: readonly string[] | undefined;
  task_ids?: readonly string[] | undefined;
  state?: readonly TaskInstanceState[] | undefined;
  pool?: readonly string[] | undefined;
  queue?: readonly string[] | undefined;
  duration_gte?: number | undefined;
  duration_lte?: number | undefined;
  execution_date_gte?: string | undefined;
  execution_date_lte?: string | undefined;
  start_date_gte?: string | undefined;
  start_date_lte?: string | undefined;
  end_date_gte?: string | undefined;
  end_date_lte?: string | undefined;
  /** One of {@link TI_ORDER}'s names, `-name` for descending; by key when absent. */
  order_by?: string | undefined;
  limit: number;
  offset: number;
}

/** The columns a list of task instances sorts by (`order_by`), by their names in the API. */
export const TI_ORDER = {
  dag_id: "dag_id",
  dag_run_id: "run_id",
  task_id: "task_id",
  map_index: "map_index",
  state: "state",
  try_number: "try_number",
  start_date: "start_date",
  end_date: "end_date",
  duration: "duration",
  pool: "pool",
  queue: "queue",
  priority_weight: "priority_weight",
  logical_date: "run_logical_date",
  execution_date: "run_logical_date",
} as const;

const LISTS = [
  ["dag_ids", "dag_id"],
  ["dag_run_ids", "run_id"],
  ["task_ids", "task_id"],
  ["state", "state"],
  ["pool", "pool"],
  ["queue", "queue"],
] as const;
const RANGES = [
  ["execution_date_gte", "run_logical_date", ">="],
  ["execution_date_lte", "run_logical_date", "<="],
  ["start_date_gte", "start_date", ">="],
  ["start_date_lte", "start_date", "<="],
  ["end_date_gte", "end_date", ">="],
  ["end_date_lte", "end_date", "<="],
] as const;

export async function listTis(
  db: Executor,
  f: TiListFilters,
): Promise<{ rows: TaskInstanceRow[]; total: number }> {
  let q = db.selectFrom("task_instance");
  for (const [name, column] of LISTS) {
    const values = f[name];
    if (values === undefined) continue;
    if (values.length === 0) return { rows: [], total: 0 };
    q = q.where(column, "in", values as string[]);
  }
  for (const [name, column, op] of RANGES) {
    const value = f[name];
    if (value !== undefined) q = q.where(column, op, new Date(value));
  }
  if (f.duration_gte !== undefined) q = q.where("duration", ">=", f.duration_gte);
  if (f.duration_lte !== undefined) q = q.where("duration", "<=", f.duration_lte);
  // The total comes with the page (a window count over the same rows the sort reads anyway):
  // one scan of the matching instances instead of two. A page past the end has no row to carry
  // it, so only then is it counted on its own.
  // The key breaks ties, so pages of a sort by state (or any column) neither repeat nor skip rows.
  const sort = sortOf(TI_ORDER, f.order_by ?? "dag_id");
  const page = await q
    .selectAll()
    .select(sql<string>`count(*) over ()`.as("total_entries"))
    .orderBy(sort.column, sort.direction)
    .orderBy("dag_id")
    .orderBy("run_id")
    .orderBy("task_id")
    .orderBy("map_index")
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const rows = page.map(({ total_entries: _total, ...row }) => row as TaskInstanceRow);
  if (page[0] !== undefined) return { rows, total: Number(page[0].total_entries) };
  if (f.offset === 0) return { rows, total: 0 };
  const total = await q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return { rows, total: Number(total.n) };
}
