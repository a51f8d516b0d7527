// Task instances across DAGs (POST /dags/~/dagRuns/~/taskInstances/list): filter by DAG, task,
// state, pool, queue, start date and duration; sort by a column; 100 a page; each links to its task
// instance page.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { operations } from "updraft/client";
import { StateBadge } from "../../components/state";
import { DagIdOptions } from "../../components/table/DagIdOptions";
import { ClearFilters, DateFilter, SelectFilter, TextFilter } from "../../components/table/filters";
import { useSorting } from "../../components/table/sorting";
import { localToIso, useQueryParams } from "../../components/table/query-params";
import { countLabel, PagedTable } from "../../components/table/PagedTable";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";
import { Link } from "../../lib/router";

const PAGE = 100;
type TiOrder = NonNullable<
  operations["get_task_instances_batch"]["requestBody"]["content"]["application/json"]["order_by"]
>;
type TiState = NonNullable<
  operations["get_task_instances_batch"]["requestBody"]["content"]["application/json"]["state"]
>[number];
const STATES: readonly TiState[] = [
  "success",
  "failed",
  "upstream_failed",
  "running",
  "queued",
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "deferred",
  "restarting",
  "skipped",
  "removed",
];

function seconds(s: number | null): string {
  if (s === null) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function TasksSection() {
  const q = useQueryParams();
  const dagId = q.get("dag_id");
  const taskId = q.get("task_id");
  const state = q.get("state");
  const pool = q.get("pool");
  const queue = q.get("queue");
  const from = localToIso(q.get("from"));
  const to = localToIso(q.get("to"));
  const minDuration = Number(q.get("min_duration"));
  const { orderBy, offset, sort } = useSorting<TiOrder>(q, "dag_id");
  const tis = useQuery({
    queryKey: [
      "browse",
      "tasks",
      { dagId, taskId, state, pool, queue, from, to, minDuration, orderBy, offset },
    ],
    queryFn: () =>
      unwrap(
        api.POST("/api/v1/dags/~/dagRuns/~/taskInstances/list", {
          body: {
            order_by: orderBy,
            page_limit: PAGE,
            page_offset: offset,
            ...(dagId ? { dag_ids: [dagId] } : {}),
            ...(taskId ? { task_ids: [taskId] } : {}),
            ...((STATES as readonly string[]).includes(state) ? { state: [state as TiState] } : {}),
            ...(pool ? { pool: [pool] } : {}),
            ...(queue ? { queue: [queue] } : {}),
            ...(from ? { start_date_gte: from } : {}),
            ...(to ? { start_date_lte: to } : {}),
            ...(minDuration > 0 ? { duration_gte: minDuration } : {}),
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.task_instances.some((t) => t.state === "running" || t.state === "queued")
        ? 5_000
        : 30_000,
  });
  const list = tis.data?.task_instances ?? [];
  const total = tis.data?.total_entries;
  return (
    <section aria-label="Task instances">
      <div className="filters" role="search">
        <TextFilter q={q} name="dag_id" label="DAG id" list="browse-dag-ids" placeholder="any DAG" />
        <DagIdOptions id="browse-dag-ids" />
        <TextFilter q={q} name="task_id" label="Task id" placeholder="any task" />
        <SelectFilter q={q} name="state" label="State" options={STATES} />
        <TextFilter q={q} name="pool" label="Pool" placeholder="any pool" />
        <TextFilter q={q} name="queue" label="Queue" placeholder="any queue" />
        <DateFilter q={q} name="from" label="Started from" />
        <DateFilter q={q} name="to" label="to" />
        <TextFilter q={q} name="min_duration" label="Min duration (s)" placeholder="0" />
        <ClearFilters q={q} />
        <div className="spacer" />
        <span className="muted">{countLabel(total, "task instance")}</span>
      </div>
      <PagedTable
        className="browse-tasks"
        head={
          <>
            {sort("dag_id", "DAG")}
            {sort("task_id", "Task")}
            {sort("dag_run_id", "Run")}
            {sort("state", "State")}
            {sort("try_number", "Try", "num")}
            {sort("pool", "Pool")}
            {sort("queue", "Queue")}
            {sort("start_date", "Started")}
            {sort("duration", "Duration", "num")}
            <th>Host</th>
          </>
        }
        columns={10}
        error={tis.error}
        empty="No task instance matches these filters."
        rows={tis.data?.task_instances.length}
        q={q}
        limit={PAGE}
        total={total ?? 0}
      >
        {list.map((t) => {
          const href =
            `/dags/${encodeURIComponent(t.dag_id)}/runs/${encodeURIComponent(t.dag_run_id)}/tasks/${encodeURIComponent(t.task_id)}` +
            (t.map_index >= 0 ? `?map_index=${t.map_index}` : "");
          return (
            <tr
              key={`${t.dag_id}/${t.dag_run_id}/${t.task_id}/${t.map_index}`}
              data-row=""
              data-task={t.task_id}
              data-state={t.state ?? "none"}
              tabIndex={0}
            >
              <td>{t.dag_id}</td>
              <td className="mono">
                <Link to={href}>
                  {t.task_display_name}
                  {t.map_index >= 0 && ` [${t.rendered_map_index ?? t.map_index}]`}
                </Link>
              </td>
              <td className="mono small clip">{t.dag_run_id}</td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td className="num">{t.try_number}</td>
              <td>{t.pool}</td>
              <td>{t.queue}</td>
              <td title={t.start_date ?? ""}>{formatDate(t.start_date)}</td>
              <td className="num">{seconds(t.duration)}</td>
              <td className="small">{t.hostname ?? ""}</td>
            </tr>
          );
        })}
      </PagedTable>
    </section>
  );
}
