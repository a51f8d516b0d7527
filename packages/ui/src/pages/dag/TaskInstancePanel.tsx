// The side panel of the Grid: a task instance (state, tries, dates, where it ran) with its actions,
// its log and a link to its full page, or a run (state, type, data interval, conf, note) with its
// actions. Everything from the DAG's files or users (log lines, notes, conf) is shown as text,
// never as HTML. The log viewer and the action dialogs are the task instance page's own.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { RunActions } from "../../components/actions/RunActions";
import { TaskActions } from "../../components/actions/TaskActions";
import { LogViewer } from "../../components/log/LogViewer";
import { StateBadge } from "../../components/state";
import { api, unwrap } from "../../lib/api";
import { formatDate, formatDuration } from "../../lib/format";
import { Link, navigate } from "../../lib/router";
import { RunAlerts } from "./RunAlerts";
import { LIVE } from "../task/ti-queries";

/** The task instance page's address. */
export function taskInstanceUrl(dagId: string, runId: string, taskId: string, mapIndex = -1): string {
  const e = encodeURIComponent;
  return `/dags/${e(dagId)}/runs/${e(runId)}/tasks/${e(taskId)}${mapIndex >= 0 ? `?map_index=${mapIndex}` : ""}`;
}

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
      <p className="small">
        <Link to={taskInstanceUrl(dagId, runId, taskId)} className="open-ti">
          Open task instance →
        </Link>
      </p>
      <TaskActions ti={{ dagId, runId, taskId, mapIndex: -1, logicalDate: t.logical_date }} />
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
          <LogViewer
            key={tryNumber}
            logKey={{ dagId, runId, taskId, mapIndex: -1, tryNumber }}
            live={LIVE.has(t.state ?? "") && tryNumber === t.try_number}
            height="45vh"
            defaultWrap
          />
        </>
      ) : (
        <p className="muted">Not started yet: no log.</p>
      )}
    </div>
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
      <RunActions
        dagId={dagId}
        runId={runId}
        onDeleted={() => navigate(`/dags/${encodeURIComponent(dagId)}/grid`)}
      />
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
      <RunAlerts dagId={dagId} runId={runId} live={r.state === "running" || r.state === "queued"} />
      <h3>Conf</h3>
      <pre className="conf">{JSON.stringify(r.conf, null, 2)}</pre>
      <p className="muted small">Click a cell of this run to see a task instance and its log.</p>
    </div>
  );
}
