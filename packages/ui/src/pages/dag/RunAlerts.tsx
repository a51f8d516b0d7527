// A run's deadline alerts (missed and still ahead) and its SLA misses, in the Grid's run panel:
// what the scheduler's timer found (issue 11), shown where the user looks at the run.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";

const REFERENCE: Record<string, string> = {
  DagRunLogicalDateDeadline: "after the logical date",
  DagRunQueuedAtDeadline: "after the run was queued",
  FixedDatetimeDeadline: "fixed date",
};

export function RunAlerts({ dagId, runId, live }: { dagId: string; runId: string; live: boolean }) {
  const refetchInterval = live ? 5_000 : false;
  const deadlines = useQuery({
    queryKey: ["dag", dagId, "run", runId, "deadlines"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/deadlines", {
          params: { path: { dag_id: dagId, dag_run_id: runId } },
        }),
      ),
    refetchInterval,
  });
  const misses = useQuery({
    queryKey: ["dag", dagId, "run", runId, "slaMisses"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/slaMisses", { params: { query: { dag_id: dagId, dag_run_id: runId } } })),
    refetchInterval,
  });
  const d = deadlines.data?.deadlines ?? [];
  const m = misses.data?.sla_misses ?? [];
  if (d.length === 0 && m.length === 0) return null;
  return (
    <section className="run-alerts" aria-label="Deadlines and SLA misses">
      <h3>Deadlines and SLA misses</h3>
      <ul>
        {d.map((x) => (
          <li key={`d${x.alert_index}`} data-deadline={x.missed ? "missed" : "ahead"}>
            <strong className={x.missed ? "error" : ""}>{x.missed ? "Deadline missed" : "Deadline"}</strong>{" "}
            {formatDate(x.deadline_time)} ({REFERENCE[x.reference_type] ?? x.reference_type})
            {x.missed_at !== null && <span className="muted"> · recorded {formatDate(x.missed_at)}</span>}
          </li>
        ))}
        {m.map((x) => (
          <li key={`s${x.task_id}`} data-sla-miss={x.task_id}>
            <strong className="error">SLA missed</strong> by <code>{x.task_id}</code>: due{" "}
            {formatDate(x.deadline)}
            <span className="muted"> · recorded {formatDate(x.timestamp)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
