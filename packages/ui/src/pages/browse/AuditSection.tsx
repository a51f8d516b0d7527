// The audit log (GET /eventLogs): who did what, when, to which DAG, run and task; filter by
// event, user (owner), DAG and time; newest first or sorted by a column; 100 a page.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { operations } from "updraft/client";
import { DagIdOptions } from "../../components/table/DagIdOptions";
import { ClearFilters, DateFilter, TextFilter } from "../../components/table/filters";
import { localToIso, useQueryParams } from "../../components/table/query-params";
import { countLabel, PagedTable } from "../../components/table/PagedTable";
import { useSorting } from "../../components/table/sorting";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";
import { Link } from "../../lib/router";

const PAGE = 100;
type Order = NonNullable<NonNullable<operations["get_event_logs"]["parameters"]["query"]>["order_by"]>;

export function AuditSection() {
  const q = useQueryParams();
  const event = q.get("event");
  const owner = q.get("owner");
  const dagId = q.get("dag_id");
  const after = localToIso(q.get("from"));
  const before = localToIso(q.get("to"));
  const { orderBy, offset, sort } = useSorting<Order>(q, "-when");
  const logs = useQuery({
    queryKey: ["browse", "audit", { event, owner, dagId, after, before, orderBy, offset }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/eventLogs", {
          params: {
            query: {
              limit: PAGE,
              offset,
              order_by: orderBy,
              ...(event ? { event } : {}),
              ...(owner ? { owner } : {}),
              ...(dagId ? { dag_id: dagId } : {}),
              ...(after ? { after } : {}),
              ...(before ? { before } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const list = logs.data?.event_logs ?? [];
  const total = logs.data?.total_entries;
  return (
    <section aria-label="Audit log">
      <div className="filters" role="search">
        <TextFilter q={q} name="event" label="Event" placeholder="e.g. variable.create" />
        <TextFilter q={q} name="owner" label="User" placeholder="anyone" />
        <TextFilter q={q} name="dag_id" label="DAG id" list="audit-dag-ids" placeholder="any DAG" />
        <DagIdOptions id="audit-dag-ids" />
        <DateFilter q={q} name="from" label="From" />
        <DateFilter q={q} name="to" label="to" />
        <ClearFilters q={q} />
        <div className="spacer" />
        <span className="muted">{countLabel(total, "event")}</span>
      </div>
      <PagedTable
        className="audit"
        head={
          <>
            {sort("when", "When")}
            {sort("event", "Event")}
            {sort("owner", "User")}
            {sort("dag_id", "DAG")}
            <th>Run / task</th>
            <th>Details</th>
          </>
        }
        columns={6}
        error={logs.error}
        empty="No event matches these filters."
        rows={logs.data?.event_logs.length}
        q={q}
        limit={PAGE}
        total={total ?? 0}
      >
        {list.map((e) => (
          <tr key={e.event_log_id} data-row="" data-event={e.event} data-owner={e.owner ?? ""} tabIndex={0}>
            <td title={e.when ?? ""}>{formatDate(e.when)}</td>
            <td className="mono">
              <button
                type="button"
                className="link"
                title="Show only this event"
                onClick={() => q.set({ event: e.event })}
              >
                {e.event}
              </button>
            </td>
            <td>{e.owner ?? <span className="muted">—</span>}</td>
            <td>
              {e.dag_id === null ? (
                <span className="muted">—</span>
              ) : (
                <Link to={`/dags/${encodeURIComponent(e.dag_id)}/grid`}>{e.dag_id}</Link>
              )}
            </td>
            <td className="mono small clip">
              {e.run_id ?? ""}
              {e.task_id !== null && <div>{e.task_id}</div>}
            </td>
            <td className="mono small clip">{e.extra ?? ""}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}
