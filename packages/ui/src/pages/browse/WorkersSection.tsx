// Workers (GET /workers): the QueueExecutor's workers from their heartbeats in Redis: hostname,
// the queues each takes work from, its concurrency and the tries it runs, its state (a mark with
// its own shape and the word: running ●, draining ◐, offline ○) and when it was last seen. Polled
// every 5 s, as workers heartbeat; the queue filter is in the URL.
import "./workers.css";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { components } from "updraft/client";
import { ClearFilters, SelectFilter, TextFilter } from "../../components/table/filters";
import { useQueryParams } from "../../components/table/query-params";
import { countLabel, PagedTable } from "../../components/table/PagedTable";
import { api, unwrap } from "../../lib/api";
import { formatDate, formatSeconds } from "../../lib/format";

type Worker = components["schemas"]["Worker"];
const MARK: Record<Worker["state"], string> = { running: "●", draining: "◐", offline: "○" };
const PAGE = 100;

export function WorkersSection() {
  const q = useQueryParams();
  const queue = q.get("queue");
  const alive = q.get("alive");
  const offset = Number(q.get("offset")) || 0;
  const workers = useQuery({
    queryKey: ["browse", "workers", { queue, alive, offset }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/workers", {
          params: {
            query: {
              limit: PAGE,
              offset,
              ...(queue ? { queue } : {}),
              ...(alive === "true" || alive === "false" ? { alive } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  const list = workers.data?.workers ?? [];
  const total = workers.data?.total_entries;
  return (
    <section aria-label="Workers">
      <div className="filters" role="search">
        <TextFilter q={q} name="queue" label="Queue" placeholder="any queue" />
        <SelectFilter q={q} name="alive" label="Alive" options={["true", "false"]} all="any" />
        <ClearFilters q={q} />
        <div className="spacer" />
        <span className="muted">{countLabel(total, "worker")}</span>
      </div>
      {workers.data?.queue_executor === false && (
        <p className="muted workers-note" role="note">
          {workers.data.message}
        </p>
      )}
      <PagedTable
        className="workers"
        head={
          <>
            <th>Hostname</th>
            <th>Queues</th>
            <th className="num">Concurrency</th>
            <th className="num">Running / total</th>
            <th>State</th>
            <th>Last seen</th>
            <th className="num">Finished</th>
            <th>Version</th>
          </>
        }
        columns={8}
        error={workers.error}
        empty={
          // Without the QueueExecutor the note above says why there are none.
          workers.data?.queue_executor === false ? null : (
            <>
              No worker has heartbeated in the last hour. Start one with{" "}
              <code>updraft worker --queues default</code>.
            </>
          )
        }
        rows={workers.data?.workers.length}
        q={q}
        limit={PAGE}
        total={total ?? 0}
      >
        {list.map((w) => (
          <tr key={w.id} data-row="" data-worker={w.id} tabIndex={0}>
            <td>
              <span className="mono">{w.hostname}</span>
              <div className="muted small">
                {w.id} · pid {w.pid}
              </div>
            </td>
            <td>
              {w.queues.map((name) => (
                <span key={name} className="worker-queue mono">
                  {name}
                </span>
              ))}
            </td>
            <td
              className="num"
              title={`${w.capacity} of ${w.concurrency} can start now (warm runners within the pool)`}
            >
              {w.concurrency}
              {w.capacity < w.concurrency && <div className="muted small">{w.capacity} ready</div>}
            </td>
            <td
              className="num"
              title={w.running
                .map((t) => `${t.dag_id}.${t.task_id} (${t.run_id}) try ${t.try_number}`)
                .join("\n")}
            >
              {w.running.length} / {w.concurrency}
            </td>
            <td>
              <span className={`worker-state ${w.state}`}>
                <span className="worker-mark" aria-hidden="true">
                  {MARK[w.state]}
                </span>
                {w.state}
              </span>
            </td>
            <td title={formatDate(w.last_seen)}>{formatSeconds(w.seconds_since_heartbeat)} ago</td>
            <td className="num">{w.tries_finished}</td>
            <td className="mono">{w.version}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}
