// The audit log (GET /eventLogs): who did what, when, to which DAG, run and task; filter by
// event, user (owner), DAG and time; newest first or sorted by a column; 100 a page.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { operations } from "updraft/client";
import { DagIdOptions } from "../../components/table/DagIdOptions";
import { ClearFilters, DateFilter, TextFilter } from "../../components/table/filters";
import { Pager } from "../../components/table/Pager";
import { localToIso, useQueryParams } from "../../components/table/query-params";
import { onRowKeys } from "../../components/table/row-keys";
import { SortHeader } from "../../components/table/SortHeader";
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
  const orderBy = (q.get("order_by") || "-when") as Order;
  const offset = Number(q.get("offset")) || 0;
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
  const total = logs.data?.total_entries ?? 0;
  const sort = (column: string, label: string) => (
    <SortHeader column={column} orderBy={orderBy} onOrderBy={(o) => q.set({ order_by: o })}>
      {label}
    </SortHeader>
  );
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
        <span className="muted">{logs.data ? `${total} event${total === 1 ? "" : "s"}` : ""}</span>
      </div>
      {logs.isError && <p className="error">{logs.error.message}</p>}
      <div className="table-wrap">
        <table className="table audit">
          <thead>
            <tr>
              {sort("when", "When")}
              {sort("event", "Event")}
              {sort("owner", "User")}
              {sort("dag_id", "DAG")}
              <th>Run / task</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {list.map((e) => (
              <tr
                key={e.event_log_id}
                data-row=""
                data-event={e.event}
                data-owner={e.owner ?? ""}
                tabIndex={0}
              >
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
            {logs.data && list.length === 0 && (
              <tr>
                <td colSpan={6} className="muted center">
                  No event matches these filters.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager offset={offset} limit={PAGE} total={total} onOffset={(o) => q.set({ offset: String(o) })} />
    </section>
  );
}
