// The side panel of the Grid: a task instance (state, tries, dates, where it ran) with its log, or
// a run (state, type, data interval, conf, note). Everything from the DAG's files or users (log
// lines, notes, conf) is shown as text, never as HTML.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { StateBadge } from "../../components/state";
import { api, unwrap } from "../../lib/api";
import { formatDate, formatDuration } from "../../lib/format";

const LIVE = new Set([
  "running",
  "queued",
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "restarting",
  "deferred",
]);

export function TaskInstancePanel({
  dagId,
  runId,
  taskId,
}: {
  dagId: string;
  runId: string;
  taskId: string;
}) {
  const path = { dag_id: dagId, dag_run_id: runId, task_id: taskId };
  const ti = useQuery({
    queryKey: ["dag", dagId, "ti", runId, taskId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", { params: { path } }),
      ),
    refetchInterval: (q) => (LIVE.has(q.state.data?.state ?? "") ? 3_000 : false),
  });
  const [chosenTry, setChosenTry] = useState<number | null>(null);
  if (ti.isPending) return <p className="muted">Loading {taskId}…</p>;
  if (ti.isError) return <p className="error">{ti.error.message}</p>;
  const t = ti.data;
  const tryNumber = chosenTry ?? t.try_number;
  const tries = Array.from({ length: t.try_number }, (_, i) => i + 1);
  return (
    <div className="panel">
      <h2 className="mono">{t.task_display_name}</h2>
      <p className="muted small mono">{runId}</p>
      <StateBadge state={t.state} />
      <dl className="facts">
        <dt>Try</dt>
        <dd>
          {t.try_number} of {t.max_tries + 1}
        </dd>
        <dt>Started</dt>
        <dd>{formatDate(t.start_date)}</dd>
        <dt>Ended</dt>
        <dd>{formatDate(t.end_date)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(t.start_date, t.end_date)}</dd>
        <dt>Operator</dt>
        <dd>{t.operator ?? "—"}</dd>
        <dt>Pool</dt>
        <dd>{t.pool}</dd>
        <dt>Host</dt>
        <dd>{t.hostname ?? "—"}</dd>
        {t.map_index >= 0 && (
          <>
            <dt>Map index</dt>
            <dd>{t.rendered_map_index ?? t.map_index}</dd>
          </>
        )}
        {t.note && (
          <>
            <dt>Note</dt>
            <dd className="note">{t.note}</dd>
          </>
        )}
      </dl>
      {t.try_number > 0 ? (
        <>
          <div className="log-head">
            <h3>Log</h3>
            {tries.length > 1 && (
              <div className="segmented" role="group" aria-label="Try">
                {tries.map((n) => (
                  <button
                    key={n}
                    type="button"
                    className={n === tryNumber ? "on" : ""}
                    onClick={() => setChosenTry(n)}
                  >
                    try {n}
                  </button>
                ))}
              </div>
            )}
          </div>
          <LogView
            path={{ ...path, try_number: tryNumber }}
            live={LIVE.has(t.state ?? "") && tryNumber === t.try_number}
          />
        </>
      ) : (
        <p className="muted">Not started yet: no log.</p>
      )}
    </div>
  );
}

function LogView({
  path,
  live,
}: {
  path: { dag_id: string; dag_run_id: string; task_id: string; try_number: number };
  live: boolean;
}) {
  const log = useQuery({
    queryKey: ["dag", path.dag_id, "log", path.dag_run_id, path.task_id, path.try_number],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}", {
          params: { path, query: { full_content: "true" } },
        }),
      ),
    refetchInterval: live ? 2_000 : false,
  });
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    // Follow the tail while the task runs.
    if (live && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [live, log.data?.content]);
  if (log.isPending) return <p className="muted">Loading the log…</p>;
  if (log.isError) return <p className="error">{log.error.message}</p>;
  return (
    <pre ref={box} className="log" aria-label="Task log">
      {log.data.content || "(empty log)"}
    </pre>
  );
}

export function RunPanel({ dagId, runId }: { dagId: string; runId: string }) {
  const run = useQuery({
    queryKey: ["dag", dagId, "run", runId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", {
          params: { path: { dag_id: dagId, dag_run_id: runId } },
        }),
      ),
    refetchInterval: (q) =>
      q.state.data?.state === "running" || q.state.data?.state === "queued" ? 3_000 : false,
  });
  if (run.isPending) return <p className="muted">Loading the run…</p>;
  if (run.isError) return <p className="error">{run.error.message}</p>;
  const r = run.data;
  return (
    <div className="panel">
      <h2 className="mono">{r.dag_run_id}</h2>
      <StateBadge state={r.state} />
      <dl className="facts">
        <dt>Type</dt>
        <dd>{r.run_type}</dd>
        <dt>Logical date</dt>
        <dd>{formatDate(r.logical_date)}</dd>
        <dt>Data interval</dt>
        <dd>
          {formatDate(r.data_interval_start)} → {formatDate(r.data_interval_end)}
        </dd>
        <dt>Started</dt>
        <dd>{formatDate(r.start_date)}</dd>
        <dt>Ended</dt>
        <dd>{formatDate(r.end_date)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.start_date, r.end_date)}</dd>
        {r.note && (
          <>
            <dt>Note</dt>
            <dd className="note">{r.note}</dd>
          </>
        )}
      </dl>
      <h3>Conf</h3>
      <pre className="conf">{JSON.stringify(r.conf, null, 2)}</pre>
      <p className="muted small">Click a cell of this run to see a task instance and its log.</p>
    </div>
  );
}
