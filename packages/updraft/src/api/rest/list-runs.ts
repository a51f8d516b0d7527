// One query for every list of DAG runs (a DAG's, every DAG's, the batch POST): Airflow's filters
// and `order_by`, a stable tie-break on id, and the total count under the same filters.
import type { DagRunRow, Executor } from "../../db/index.js";
import type { DagRunState, DagRunType } from "../../model/states.js";
import { sortOf } from "./common.js";
import { RUN_ORDER, type RunRangeFilters } from "./dag-run-schemas.js";

export interface RunListFilters extends RunRangeFilters {
  dag_ids?: readonly string[] | undefined;
  states?: readonly DagRunState[] | undefined;
  run_type?: readonly DagRunType[] | undefined;
  order_by: string;
  limit: number;
  offset: number;
}

const RANGES = [
  ["execution_date_gte", "logical_date", ">="],
  ["execution_date_lte", "logical_date", "<="],
  ["start_date_gte", "start_date", ">="],
  ["start_date_lte", "start_date", "<="],
  ["end_date_gte", "end_date", ">="],
  ["end_date_lte", "end_date", "<="],
  ["updated_at_gte", "updated_at", ">="],
  ["updated_at_lte", "updated_at", "<="],
] as const;

export async function listRuns(
  db: Executor,
  f: RunListFilters,
): Promise<{ rows: DagRunRow[]; total: number }> {
  let q = db.selectFrom("dag_run");
  if (f.dag_ids !== undefined) {
    if (f.dag_ids.length === 0) return { rows: [], total: 0 };
    q = q.where("dag_id", "in", f.dag_ids);
  }
  if (f.states !== undefined) {
    if (f.states.length === 0) return { rows: [], total: 0 };
    q = q.where("state", "in", f.states);
  }
  if (f.run_type !== undefined) {
    if (f.run_type.length === 0) return { rows: [], total: 0 };
    q = q.where("run_type", "in", f.run_type);
  }
  for (const [name, column, op] of RANGES) {
    const value = f[name];
    if (value !== undefined) q = q.where(column, op, new Date(value));
  }
  const { column, direction } = sortOf(RUN_ORDER, f.order_by);
  const [rows, total] = await Promise.all([
    q
      .selectAll()
      .orderBy(column, direction)
      .orderBy("id", direction)
      .limit(f.limit)
      .offset(f.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}
