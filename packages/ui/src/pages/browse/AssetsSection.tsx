// Assets (data-aware scheduling, decision 0031): every asset with the tasks that update it and the
// DAGs scheduled on it (GET /assets), and its updates newest first (GET /assets/events) with the
// task that made each and the runs it triggered. Choosing an asset shows only its events.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ClearFilters, TextFilter } from "../../components/table/filters";
import { EmptyRow } from "../../components/table/EmptyRow";
import { countLabel, PagedTable } from "../../components/table/PagedTable";
import { useQueryParams } from "../../components/table/query-params";
import { onRowKeys } from "../../components/table/row-keys";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";
import { Link } from "../../lib/router";

const PAGE = 100;
const dagLink = (dagId: string) => `/dags/${encodeURIComponent(dagId)}/grid`;

export function AssetsSection() {
  const q = useQueryParams();
  const uriPattern = q.get("uri");
  const assetId = Number(q.get("asset_id")) || null;
  const offset = Number(q.get("offset")) || 0;
  const assets = useQuery({
    queryKey: ["browse", "assets", { uriPattern, offset }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/assets", {
          params: {
            query: {
              limit: PAGE,
              offset,
              order_by: "uri",
              ...(uriPattern ? { uri_pattern: uriPattern } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
  const events = useQuery({
    queryKey: ["browse", "asset-events", { assetId }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/assets/events", {
          params: {
            query: { limit: 50, order_by: "-timestamp", ...(assetId === null ? {} : { asset_id: assetId }) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const list = assets.data?.assets ?? [];
  const total = assets.data?.total_entries;
  const chosen = list.find((a) => a.id === assetId);
  return (
    <section aria-label="Assets">
      <div className="filters" role="search">
        <TextFilter q={q} name="uri" label="URI contains" placeholder="any asset" />
        <ClearFilters q={q} />
        <div className="spacer" />
        <span className="muted">{countLabel(total, "asset")}</span>
      </div>
      <PagedTable
        className="assets"
        head={
          <>
            <th>URI</th>
            <th>Name</th>
            <th>Updated by</th>
            <th>Schedules</th>
            <th>Last update</th>
          </>
        }
        columns={5}
        error={assets.error}
        empty={
          <>
            No asset yet. A task declares one with <code>outlets: [asset(&quot;s3://…&quot;)]</code>.
          </>
        }
        rows={assets.data?.assets.length}
        q={q}
        limit={PAGE}
        total={total ?? 0}
      >
        {list.map((a) => (
          <tr key={a.id} data-row="" data-asset={a.uri} tabIndex={0} className={a.id === assetId ? "on" : ""}>
            <td className="mono">
              <button
                type="button"
                className="link"
                title="Show this asset's updates"
                onClick={() => q.set({ asset_id: a.id === assetId ? null : String(a.id) })}
              >
                {a.uri}
              </button>
            </td>
            <td>{a.name === a.uri ? <span className="muted">—</span> : a.name}</td>
            <td className="small">
              {a.producing_tasks.map((t) => (
                <div key={`${t.dag_id}.${t.task_id}`}>
                  <Link to={dagLink(t.dag_id)}>{t.dag_id}</Link>.<span className="mono">{t.task_id}</span>
                </div>
              ))}
            </td>
            <td className="small">
              {a.consuming_dags.map((d) => (
                <div key={d.dag_id}>
                  <Link to={dagLink(d.dag_id)}>{d.dag_id}</Link>
                </div>
              ))}
            </td>
            <td title={a.updated_at}>{formatDate(a.updated_at)}</td>
          </tr>
        ))}
      </PagedTable>

      <h2 className="subhead">{chosen ? `Updates of ${chosen.uri}` : "Latest updates"}</h2>
      {events.isError && <p className="error">{events.error.message}</p>}
      <div className="table-wrap">
        <table className="table asset-events">
          <thead>
            <tr>
              <th>When</th>
              <th>Asset</th>
              <th>Source</th>
              <th>Triggered runs</th>
              <th>Extra</th>
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {(events.data?.asset_events ?? []).map((e) => (
              <tr key={e.id} data-row="" data-asset-event={e.asset_uri} tabIndex={0}>
                <td title={e.timestamp}>{formatDate(e.timestamp)}</td>
                <td className="mono small">{e.asset_uri}</td>
                <td className="small">
                  {e.source_dag_id === null ? (
                    <span className="muted">by hand (API)</span>
                  ) : (
                    <>
                      <Link to={dagLink(e.source_dag_id)}>{e.source_dag_id}</Link>.
                      <span className="mono">{e.source_task_id}</span>
                      <div className="mono muted clip">{e.source_run_id}</div>
                    </>
                  )}
                </td>
                <td className="small mono">
                  {e.created_dagruns.map((r) => (
                    <div key={`${r.dag_id}/${r.run_id}`} data-triggered-run={r.run_id}>
                      <Link to={`${dagLink(r.dag_id)}?run=${encodeURIComponent(r.run_id)}`}>{r.dag_id}</Link>{" "}
                      <span className="muted clip">{r.run_id}</span>
                    </div>
                  ))}
                </td>
                <td className="mono small clip">
                  {Object.keys(e.extra).length === 0 ? "" : JSON.stringify(e.extra)}
                </td>
              </tr>
            ))}
            {events.data && events.data.asset_events.length === 0 && (
              <EmptyRow columns={5}>No update yet.</EmptyRow>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
