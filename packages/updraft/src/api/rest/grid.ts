// The UI's Grid in one call: a page of a DAG's runs (newest first) and, for each run and task,
// one cell (state, try, dates; a mapped task's instances counted by state). The REST lists give
// the same facts, but a page of 25 runs of a 100-task DAG is 2,500 full task-instance rows in
// three calls; this is one call of a few columns, grouped in SQL (issue 8's benchmark, issue 9's
// Grid). Airflow's UI has the same split (`/ui/grid` beside the public API).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { getDag, type Database } from "../../db/index.js";
import { DAG_RUN_STATES, TASK_INSTANCE_STATES, type TaskInstanceState } from "../../model/states.js";
import { summaryState } from "../../model/summary-state.js";
import { dagNotFound, loadDag } from "../../services/index.js";
import { DagPath, Page, route } from "./common.js";
import { iso } from "./serialize.js";

const GridRun = z.object({
  dag_run_id: z.string(),
  state: z.enum(DAG_RUN_STATES),
  run_type: z.string(),
  logical_date: z.string().nullable(),
  data_interval_start: z.string().nullable(),
  data_interval_end: z.string().nullable(),
  queued_at: z.string().nullable(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  note: z.string().nullable(),
});

const GridCell = z.object({
  dag_run_id: z.string(),
  task_id: z.string(),
  /** The instance's state; for a mapped task, the one that stands for all (failed before success). */
  state: z.enum(TASK_INSTANCE_STATES).nullable(),
  try_number: z.number().int(),
  /**
   * Seconds from the earliest start to the latest end among the cell's instances; null until it has
   * both. (A number, not two dates: a page of the Grid holds 10,000 cells, and the browser parses
   * them while the user scrolls.)
   */
  duration_s: z.number().nullable(),
  /** How many mapped instances the task has in this run; 0 for a task that is not mapped. */
  map_count: z.number().int(),
  /** Mapped instances per state (`none` for no state yet); empty for a task that is not mapped. */
  mapped_states: z.record(z.string(), z.number().int()),
});

/** A task group's summary in one run: the Grid shows it as one cell while the group is collapsed. */
const GridGroupCell = z.object({
  dag_run_id: z.string(),
  group_id: z.string(),
  /** The state that stands for the group's tasks (failed before running before success). */
  state: z.enum(TASK_INSTANCE_STATES).nullable(),
  /** The group's tasks (nested groups' too) per state in this run; `none` for no state yet. */
  states: z.record(z.string(), z.number().int()),
});

const GridData = z
  .object({
    dag_runs: z.array(GridRun),
    total_entries: z.number().int(),
    task_instances: z.array(GridCell),
    group_cells: z.array(GridGroupCell),
  })
  .meta({ id: "GridData" });

interface GroupRow {
  run_id: string;
  task_id: string;
  state: TaskInstanceState | null;
  mapped: boolean;
  n: number | string;
  try_number: number;
  start_date: Date | null;
  end_date: Date | null;
}

type Cell = z.infer<typeof GridCell>;

/** One cell per (run, task) from rows grouped by state. */
function cellsOf(rows: readonly GroupRow[]): Cell[] {
  const cells = new Map<string, Cell>();
  // The span of each cell's instances, in ms, until the durations are computed at the end.
  const spans = new Map<Cell, { start: number; end: number }>();
  for (const r of rows) {
    const key = `${r.run_id}\u0000${r.task_id}`;
    let cell = cells.get(key);
    if (cell === undefined) {
      cell = {
        dag_run_id: r.run_id,
        task_id: r.task_id,
        state: r.state,
        try_number: r.try_number,
        duration_s: null,
        map_count: 0,
        mapped_states: {},
      };
      cells.set(key, cell);
      spans.set(cell, { start: Infinity, end: -Infinity });
    } else {
      cell.try_number = Math.max(cell.try_number, r.try_number);
    }
    const span = spans.get(cell)!;
    if (r.start_date !== null) span.start = Math.min(span.start, r.start_date.getTime());
    if (r.end_date !== null) span.end = Math.max(span.end, r.end_date.getTime());
    if (r.mapped) {
      const n = Number(r.n);
      cell.map_count += n;
      cell.mapped_states[r.state ?? "none"] = n;
      cell.state = summaryState(cell.mapped_states);
    }
  }
  for (const [cell, { start, end }] of spans)
    if (Number.isFinite(start) && Number.isFinite(end)) cell.duration_s = Math.max(0, (end - start) / 1000);
  return [...cells.values()];
}

type GroupCell = z.infer<typeof GridGroupCell>;

/**
 * One summary per (run, task group) from the task cells: a task counts in its group and in every
 * enclosing group. The summary rule is summaryState's, the same as for mapped tasks.
 */
function groupCellsOf(
  cells: readonly Cell[],
  tasks: readonly { task_id: string; task_group_id: string | null }[],
  groups: readonly { group_id: string; parent_group_id: string | null }[],
): GroupCell[] {
  if (groups.length === 0) return [];
  const parent = new Map(groups.map((g) => [g.group_id, g.parent_group_id]));
  const ancestors = new Map<string, string[]>();
  for (const t of tasks) {
    const chain: string[] = [];
    for (
      let g = t.task_group_id;
      g !== null && g !== undefined && !chain.includes(g);
      g = parent.get(g) ?? null
    )
      chain.push(g);
    ancestors.set(t.task_id, chain);
  }
  const out = new Map<string, GroupCell>();
  for (const c of cells) {
    for (const g of ancestors.get(c.task_id) ?? []) {
      const key = `${c.dag_run_id}\u0000${g}`;
      let cell = out.get(key);
      if (cell === undefined) {
        cell = { dag_run_id: c.dag_run_id, group_id: g, state: null, states: {} };
        out.set(key, cell);
      }
      const s = c.state ?? "none";
      cell.states[s] = (cell.states[s] ?? 0) + 1;
    }
  }
  for (const cell of out.values()) cell.state = summaryState(cell.states);
  return [...out.values()];
}

export function gridRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { params: DagPath, querystring: Page, response: { 200: GridData } };
    app.get(
      "/ui/grid/:dag_id",
      {
        ...route("get_grid_data", "A page of a DAG's runs with one cell per task", ["UI"], schema),
        // Written as is, not encoded through the zod schema first: the handler's return type is the
        // schema's (the type provider checks it), and encoding a page's 5,000 cells took 40–70 ms
        // of the server's CPU a page against 7 ms for JSON.stringify, while the browser scrolled.
        serializerCompiler: () => (data) => JSON.stringify(data),
      },
      async (request) => {
        const { dag_id } = request.params;
        const { limit, offset } = request.query;
        if ((await getDag(db, dag_id)) === undefined) throw dagNotFound(dag_id);
        const plan = await loadDag(db, dag_id);
        const runs = db.selectFrom("dag_run").where("dag_id", "=", dag_id);
        const [rows, total] = await Promise.all([
          runs
            .select([
              "run_id",
              "state",
              "run_type",
              "logical_date",
              "data_interval_start",
              "data_interval_end",
              "queued_at",
              "start_date",
              "end_date",
              "note",
            ])
            .orderBy("logical_date", (o) => o.desc().nullsFirst())
            .orderBy("id", "desc")
            .limit(limit)
            .offset(offset)
            .execute(),
          runs.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
        ]);
        const runIds = rows.map((r) => r.run_id);
        const groups =
          runIds.length === 0
            ? []
            : await db
                .selectFrom("task_instance")
                .where("dag_id", "=", dag_id)
                .where("run_id", "in", runIds)
                .select([
                  "run_id",
                  "task_id",
                  "state",
                  sql<boolean>`map_index >= 0`.as("mapped"),
                  (eb) => eb.fn.countAll<number>().as("n"),
                  (eb) => eb.fn.max("try_number").as("try_number"),
                  (eb) => eb.fn.min("start_date").as("start_date"),
                  (eb) => eb.fn.max("end_date").as("end_date"),
                ])
                .groupBy(["run_id", "task_id", "state", sql`map_index >= 0`])
                .execute();
        const cells = cellsOf(groups as GroupRow[]);
        return {
          dag_runs: rows.map((r) => ({
            dag_run_id: r.run_id,
            state: r.state,
            run_type: r.run_type,
            logical_date: iso(r.logical_date),
            data_interval_start: iso(r.data_interval_start),
            data_interval_end: iso(r.data_interval_end),
            queued_at: iso(r.queued_at),
            start_date: iso(r.start_date),
            end_date: iso(r.end_date),
            note: r.note,
          })),
          total_entries: Number(total.n),
          task_instances: cells,
          group_cells: groupCellsOf(cells, plan?.dag.tasks ?? [], plan?.dag.task_groups ?? []),
        };
      },
    );
  };
}
