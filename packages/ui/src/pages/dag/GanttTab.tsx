// The Gantt of one run (?run= in the URL, else the newest): a row per task try with its queued span
// (hatched) and its running span (the state's colour and symbol), on a shared time axis. A row's
// tooltip (hover or keyboard focus) gives the times and durations; Enter or a click opens the task
// in the Grid's panel. Polled while the run or a try is unfinished, so bars grow live.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { StateBadge, StateMark, stateLook } from "../../components/state";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";
import { navigate, useLocation } from "../../lib/router";
import { formatClock, formatSeconds, timeTicks } from "./chart-format";
import { ganttRange, ganttRows, LIVE_STATES, type GanttRow } from "./gantt-rows";
import { taskOrder, useGridFirstPage, type GridRun } from "./grid-data";
import "./chart.css";
import "./gantt.css";

const LIVE_MS = 2_000;

export function GanttTab({ dagId }: { dagId: string }) {
  const { pathname, search } = useLocation();
  const runs = useGridFirstPage(dagId);
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  const list = runs.data?.dag_runs ?? [];
  const runId = search.get("run") ?? list[0]?.dag_run_id ?? null;
  const run = list.find((r) => r.dag_run_id === runId);
  const gantt = useQuery({
    queryKey: ["dag", dagId, "gantt", runId],
    enabled: runId !== null,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/ui/gantt/{dag_id}/{dag_run_id}", {
          params: { path: { dag_id: dagId, dag_run_id: runId ?? "" } },
        }),
      ),
    refetchInterval: (q) => {
      const unfinishedRun = run !== undefined && (run.state === "running" || run.state === "queued");
      const liveTry = q.state.data?.tries.some((t) => t.end_date === null && LIVE_STATES.has(t.state ?? ""));
      return unfinishedRun || liveTry === true ? LIVE_MS : false;
    },
  });

  const live =
    (run !== undefined && (run.state === "running" || run.state === "queued")) ||
    gantt.data?.tries.some((t) => t.end_date === null && LIVE_STATES.has(t.state ?? "")) === true;
  const now = useNow(live);

  const pick = (id: string) => {
    const next = new URLSearchParams(search);
    next.set("run", id);
    navigate(`${pathname}?${next.toString()}`, { replace: true });
  };

  if (runs.error) return <p className="error">{runs.error.message}</p>;
  if (!runs.data) return <p className="muted">Loading the runs…</p>;
  if (list.length === 0)
    return (
      <div className="empty">
        <p>No runs yet. Trigger one to see its tasks on a time line.</p>
      </div>
    );
  return (
    <div className="gantt">
      <div className="chart-toolbar">
        <label>
          Run{" "}
          <select value={runId ?? ""} onChange={(e) => pick(e.target.value)} aria-label="Run">
            {run === undefined && runId !== null && <option value={runId}>{runId}</option>}
            {list.map((r) => (
              <option key={r.dag_run_id} value={r.dag_run_id}>
                {runOption(r)}
              </option>
            ))}
          </select>
        </label>
        {run && (
          <>
            <StateBadge state={run.state} />
            <span className="muted small">
              started {formatDate(run.start_date)} · {run.end_date ? "ran" : "running for"}{" "}
              {run.start_date ? formatSeconds(span(run.start_date, run.end_date)) : "—"}
            </span>
          </>
        )}
        <span className="spacer" />
        <span className="gantt-key small muted">
          <span className="gantt-key-queued" aria-hidden="true" /> queued
          <span className="gantt-key-run" aria-hidden="true" /> running / ended (state colour and symbol)
        </span>
      </div>
      {gantt.error && <p className="error">{gantt.error.message}</p>}
      {gantt.data && (
        <GanttChart
          rows={ganttRows(gantt.data.tries, details.data ? taskOrder(details.data.tasks) : [], now)}
          onOpen={(row) =>
            navigate(
              `/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId ?? "")}&task=${encodeURIComponent(row.task_id)}`,
            )
          }
        />
      )}
    </div>
  );
}

function GanttChart({ rows, onOpen }: { rows: GanttRow[]; onOpen: (row: GanttRow) => void }) {
  const [tip, setTip] = useState<Tip | null>(null);
  const range = ganttRange(rows);
  if (rows.length === 0 || range === null)
    return (
      <div className="empty">
        <p>No task of this run has been queued yet.</p>
      </div>
    );
  const [lo, hi, origin] = range;
  const pct = (t: number) => `${(((t - lo) / (hi - lo)) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `max(2px, ${(((b - a) / (hi - lo)) * 100).toFixed(3)}%)`;
  const ticks = timeTicks(lo, hi, origin);
  const show = (r: GanttRow, el: HTMLElement) => {
    // Fixed to the window, so the chart's scrolling box does not clip it; under the row, or above
    // it near the window's bottom; starting where the bar starts, kept inside the window.
    const box = el.getBoundingClientRect();
    const track = el.querySelector(".gantt-track")?.getBoundingClientRect() ?? box;
    const at = track.left + (((r.start ?? r.queued ?? lo) - lo) / (hi - lo)) * track.width;
    const left = Math.max(8, Math.min(at - 20, window.innerWidth - TIP_W - 8));
    const below = box.bottom + TIP_H + 8 < window.innerHeight;
    setTip({ key: r.key, left, top: below ? box.bottom + 4 : box.top - TIP_H - 4 });
  };
  const hide = (r: GanttRow) => setTip((t) => (t?.key === r.key ? null : t));
  const tipRow = tip === null ? undefined : rows.find((r) => r.key === tip.key);
  const multi = new Set(rows.filter((r) => r.try_number > 1 || r.map_index >= 0).map((r) => r.task_id));
  return (
    <div
      className="gantt-chart"
      role="list"
      aria-label="Task tries on a time line"
      onScroll={() => setTip(null)}
    >
      <div className="gantt-axis" aria-hidden="true">
        <span className="gantt-label gantt-axis-title">Task · try / since {formatClock(origin)}</span>
        <span className="gantt-track">
          {ticks.map((t) => (
            <span key={t} className="gantt-tick" style={{ left: pct(t) }}>
              {t === origin ? "0s" : `+${formatSeconds((t - origin) / 1000)}`}
            </span>
          ))}
        </span>
      </div>
      {rows.map((r) => {
        const text = describe(r);
        const look = stateLook(r.state);
        const queuedEnd = r.start ?? r.end;
        return (
          <div key={r.key} role="listitem" className="gantt-row">
            <button
              type="button"
              className="gantt-hit"
              aria-label={`${text}. Open in the Grid.`}
              onClick={() => onOpen(r)}
              onMouseEnter={(e) => show(r, e.currentTarget)}
              onMouseLeave={() => hide(r)}
              onFocus={(e) => show(r, e.currentTarget)}
              onBlur={() => hide(r)}
              onKeyDown={(e) => {
                if (e.key === "Escape") setTip(null);
              }}
            >
              <span className="gantt-label">
                <StateMark state={r.state} />
                <span className="gantt-task">{r.task_id}</span>
                {r.map_index >= 0 && <span className="muted small">[{r.map_index}]</span>}
                {(multi.has(r.task_id) || r.try_number > 1) && (
                  <span className="muted small">try {r.try_number}</span>
                )}
              </span>
              <span className="gantt-track">
                {ticks.map((t) => (
                  <span key={t} className="gantt-grid" style={{ left: pct(t) }} aria-hidden="true" />
                ))}
                {r.queued !== null && queuedEnd !== null && queuedEnd > r.queued && (
                  <span
                    className="gantt-bar queued"
                    data-task={r.task_id}
                    style={{ left: pct(r.queued), width: width(r.queued, queuedEnd) }}
                  />
                )}
                {r.start !== null && r.end !== null && (
                  <span
                    className={`gantt-bar run state-${r.state ?? "none"}${r.ended ? "" : " live"}`}
                    data-task={r.task_id}
                    data-try={r.try_number}
                    data-state={r.state ?? "none"}
                    style={{ left: pct(r.start), width: width(r.start, r.end) }}
                  >
                    <span aria-hidden="true">{look.symbol}</span>
                  </span>
                )}
              </span>
            </button>
          </div>
        );
      })}
      {tip !== null && tipRow !== undefined && <GanttTip row={tipRow} left={tip.left} top={tip.top} />}
    </div>
  );
}

interface Tip {
  key: string;
  left: number;
  top: number;
}
const TIP_W = 260;
const TIP_H = 140;

function GanttTip({ row: r, left, top }: { row: GanttRow; left: number; top: number }) {
  const queuedEnd = r.start ?? r.end;
  return (
    <div className="gantt-tip" role="tooltip" style={{ left, top, width: TIP_W }}>
      <strong>{r.task_id}</strong>
      {r.map_index >= 0 ? ` [${r.map_index}]` : ""} · try {r.try_number} · <StateBadge state={r.state} />
      <dl>
        <dt>Queued</dt>
        <dd>{r.queued === null ? "—" : formatClock(r.queued)}</dd>
        <dt>Started</dt>
        <dd>{r.start === null ? "—" : formatClock(r.start)}</dd>
        <dt>Ended</dt>
        <dd>{r.ended && r.end !== null ? formatClock(r.end) : "not yet"}</dd>
        <dt>Waited in queue</dt>
        <dd>
          {r.queued !== null && queuedEnd !== null ? formatSeconds((queuedEnd - r.queued) / 1000) : "—"}
        </dd>
        <dt>Ran for</dt>
        <dd>{r.start !== null && r.end !== null ? formatSeconds((r.end - r.start) / 1000) : "—"}</dd>
      </dl>
    </div>
  );
}

function describe(r: GanttRow): string {
  const parts = [
    `${r.task_id}${r.map_index >= 0 ? ` [${r.map_index}]` : ""}, try ${r.try_number}: ${stateLook(r.state).label}`,
  ];
  const queuedEnd = r.start ?? r.end;
  if (r.queued !== null && queuedEnd !== null)
    parts.push(`queued ${formatSeconds((queuedEnd - r.queued) / 1000)}`);
  if (r.start !== null && r.end !== null)
    parts.push(
      `${r.ended ? "ran" : "running for"} ${formatSeconds((r.end - r.start) / 1000)} from ${formatClock(r.start)}`,
    );
  return parts.join(", ");
}

/** The time, ticking every second while `live`: unfinished bars grow even when no poll changed. */
function useNow(live: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!live) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, [live]);
  return live ? now : Date.now();
}

function span(startIso: string, endIso: string | null): number {
  const end = endIso === null ? Date.now() : new Date(endIso).getTime();
  return (end - new Date(startIso).getTime()) / 1000;
}

function runOption(r: GridRun): string {
  return `${formatDate(r.logical_date ?? r.queued_at)} · ${stateLook(r.state).label} · ${r.dag_run_id}`;
}
