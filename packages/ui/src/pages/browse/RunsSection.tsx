// DAG runs across DAGs (POST /dags/~/dagRuns/list): filter by DAG, state, run type and logical
// date; sort by a column; 100 a page; each run links to its column in the DAG's Grid.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { operations } from "updraft/client";
import { StateBadge } from "../../components/state";
import { DagIdOptions } from "../../components/table/DagIdOptions";
import { ClearFilters, DateFilter, SelectFilter, TextFilter } from "../../components/table/filters";
import { localToIso, useQueryParams } from "../../components/table/query-params";
import { countLabel, PagedTable } from "../../components/table/PagedTable";
import { useSorting } from "../../components/table/sorting";
import { api, unwrap } from "../../lib/api";
import { formatDate, formatDuration } from "../../lib/format";
import { Link } from "../../lib/router";

const PAGE = 100;
const STATES = ["queued", "running", "success", "failed"] as const;
const RUN_TYPES = ["manual", "scheduled", "backfill", "asset_triggered"] as const;
type RunOrder = NonNullable<
  operations["get_dag_runs_batch"]["requestBody"]["content"]["application/json"]["order_by"]
>;

export function RunsSection() {
  const q = useQueryParams();
  const dagId = q.get("dag_id");
  const state = q.get("state");
  const runType = q.get("run_type");
  const from = localToIso(q.get("from"));
  const to = localToIso(q.get("to"));
  const { orderBy, offset, sort } = useSorting<RunOrder>(q, "-run_after");

  const runs = useQuery({
    queryKey: ["browse", "runs", { dagId, state, runType, from, to, orderBy, offset }],
    queryFn: () =>
      unwrap(
        api.POST("/api/v1/dags/~/dagRuns/list", {
          body: {
            order_by: orderBy,
            page_limit: PAGE,
            page_offset: offset,
            ...(dagId ? { dag_ids: [dagId] } : {}),
            ...((STATES as readonly string[]).includes(state)
              ? { states: [state as (typeof STATES)[number]] }
              : {}),
            ...((RUN_TYPES as readonly string[]).includes(runType)
              ? { run_type: [runType as (typeof RUN_TYPES)[number]] }
              : {}),
            ...(from ? { execution_date_gte: from } : {}),
            ...(to ? { execution_date_lte: to } : {}),
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.dag_runs.some((r) => r.state === "running" || r.state === "queued") ? 5_000 : 30_000,
  });
  const list = runs.data?.dag_runs ?? [];
  const total = runs.data?.total_entries;
  return (
    <section aria-label="DAG runs">
      <div className="filters" role="search">
        <TextFilter q={q} name="dag_id" label="DAG id" list="browse-dag-ids" placeholder="any DAG" />
        <DagIdOptions id="browse-dag-ids" />
        <SelectFilter q={q} name="state" label="State" options={STATES} />
        <SelectFilter q={q} name="run_type" label="Run type" options={RUN_TYPES} />
        <DateFilter q={q} name="from" label="Logical date from" />
        <DateFilter q={q} name="to" label="to" />
        <ClearFilters q={q} />
        <div className="spacer" />
        <span className="muted">{countLabel(total, "run")}</span>
      </div>
      <PagedTable
        className="browse-runs"
        head={
          <>
            {sort("dag_id", "DAG")}
            {sort("dag_run_id", "Run")}
            {sort("state", "State")}
            <th>Type</th>
            {sort("logical_date", "Logical date")}
            {sort("start_date", "Started")}
            {sort("end_date", "Ended")}
            <th className="num">Duration</th>
          </>
        }
        columns={8}
        error={runs.error}
        empty="No run matches these filters."
        rows={runs.data?.dag_runs.length}
        q={q}
        limit={PAGE}
        total={total ?? 0}
      >
        {list.map((r) => (
          <tr
            key={`${r.dag_id}/${r.dag_run_id}`}
            data-row=""
            data-run={r.dag_run_id}
            data-state={r.state}
            tabIndex={0}
          >
            <td>
              <Link to={`/dags/${encodeURIComponent(r.dag_id)}/grid`} tabIndex={-1}>
                {r.dag_id}
              </Link>
            </td>
            <td className="mono clip">
              <Link
                to={`/dags/${encodeURIComponent(r.dag_id)}/grid?run=${encodeURIComponent(r.dag_run_id)}`}
                data-primary=""
              >
                {r.dag_run_id}
              </Link>
              {r.note && <div className="muted small">{r.note}</div>}
            </td>
            <td>
              <StateBadge state={r.state} />
            </td>
            <td>{r.run_type}</td>
            <td title={r.logical_date ?? ""}>{formatDate(r.logical_date)}</td>
            <td title={r.start_date ?? ""}>{formatDate(r.start_date)}</td>
            <td title={r.end_date ?? ""}>{formatDate(r.end_date)}</td>
            <td className="num">{r.start_date === null ? "—" : formatDuration(r.start_date, r.end_date)}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}
