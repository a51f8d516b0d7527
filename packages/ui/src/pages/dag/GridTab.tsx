// The Grid: one row per run (newest first), one column per task, each cell the task instance's
// state as colour and symbol. Rows and columns are virtualized (@tanstack/react-virtual): only what
// is on screen is in the DOM, so 10,000 runs × 100 tasks scroll like 20. A click opens the side
// panel with the task instance and its log; the selection is in the URL (?run=&task=).
// Keyboard: the grid is one tab stop; arrows, Page Up/Down and Home/End move the active cell
// (aria-activedescendant, since a virtualized cell can leave the DOM), Enter opens it, Escape
// closes the panel.
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, useState, type KeyboardEvent } from "react";
import { ALL_STATES, StateMark, stateLook } from "../../components/state";
import { api, unwrap } from "../../lib/api";
import { formatDate } from "../../lib/format";
import { navigate, useLocation } from "../../lib/router";
import { taskOrder, useGridFirstPage, useGridPages, type GridCell } from "./grid-data";
import { RunPanel, TaskInstancePanel } from "./TaskInstancePanel";

const ROW_H = 26;
const COL_W = 28;
const LABEL_W = 250;
const HEAD_H = 150;

export function GridTab({ dagId }: { dagId: string }) {
  const { pathname, search } = useLocation();
  const selectedRun = search.get("run");
  const selectedTask = search.get("task");
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  const tasks = details.data ? taskOrder(details.data.tasks) : [];
  const scroller = useRef<HTMLDivElement>(null);
  const first = useGridFirstPage(dagId);
  const total = first.data?.total_entries ?? 0;
  const rows = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_H,
    overscan: 10,
    scrollMargin: 0,
    // Render in React's own batch, not synchronously inside each scroll event.
    useFlushSync: false,
  });
  const cols = useVirtualizer({
    horizontal: true,
    count: tasks.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => COL_W,
    overscan: 4,
    useFlushSync: false,
  });
  const virtualRows = rows.getVirtualItems();
  const grid = useGridPages(
    dagId,
    first,
    virtualRows.map((r) => r.index),
  );
  const virtualCols = cols.getVirtualItems();

  const select = (runId: string | null, taskId: string | null) => {
    const next = new URLSearchParams(search);
    if (runId === null) next.delete("run");
    else next.set("run", runId);
    if (taskId === null) next.delete("task");
    else next.set("task", taskId);
    const q = next.toString();
    navigate(`${pathname}${q ? `?${q}` : ""}`, { replace: true });
  };

  const [active, setActive] = useState<{ row: number; col: number } | null>(null);
  const pageRows = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_H) - 6);
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      select(null, null);
      return;
    }
    const at = active ?? { row: 0, col: 0 };
    if (e.key === "Enter" || e.key === " ") {
      const run = grid.run(at.row);
      const taskId = tasks[at.col];
      if (run && taskId !== undefined) select(run.dag_run_id, taskId);
      e.preventDefault();
      return;
    }
    const moves: Record<string, [number, number]> = {
      ArrowDown: [1, 0],
      ArrowUp: [-1, 0],
      ArrowRight: [0, 1],
      ArrowLeft: [0, -1],
      PageDown: [pageRows, 0],
      PageUp: [-pageRows, 0],
    };
    let next: { row: number; col: number } | null = null;
    const move = moves[e.key];
    if (move !== undefined && active === null) next = at;
    else if (move !== undefined) next = { row: at.row + move[0], col: at.col + move[1] };
    else if (e.key === "Home") next = { row: e.ctrlKey ? 0 : at.row, col: 0 };
    else if (e.key === "End") next = { row: e.ctrlKey ? total - 1 : at.row, col: tasks.length - 1 };
    if (next === null) return;
    e.preventDefault();
    next = {
      row: Math.min(Math.max(next.row, 0), Math.max(total - 1, 0)),
      col: Math.min(Math.max(next.col, 0), Math.max(tasks.length - 1, 0)),
    };
    setActive(next);
    rows.scrollToIndex(next.row, { align: "auto" });
    cols.scrollToIndex(next.col, { align: "auto" });
  };

  if (grid.error) return <p className="error">{grid.error.message}</p>;
  if (grid.total === null || !details.data) return <p className="muted">Loading the grid…</p>;
  const width = LABEL_W + cols.getTotalSize();
  return (
    <div className="grid-layout">
      <div className="grid-main">
        <Legend />
        {total === 0 ? (
          <div className="empty">
            <p>No runs yet. Trigger one, or unpause the DAG to let the scheduler start its runs.</p>
          </div>
        ) : (
          <div
            ref={scroller}
            className="grid-scroll"
            role="grid"
            aria-label="Runs and task instances"
            onClick={(e) => {
              // One handler for every cell (not a closure per cell and frame).
              const cell = (e.target as HTMLElement).closest<HTMLElement>(".grid-cell");
              const runId = cell?.dataset["run"];
              const taskId = cell?.dataset["task"];
              if (runId !== undefined && taskId !== undefined) select(runId, taskId);
            }}
            aria-rowcount={total}
            aria-colcount={tasks.length + 1}
            tabIndex={0}
            onKeyDown={onKeyDown}
            onFocus={() => setActive((a) => a ?? { row: 0, col: 0 })}
            aria-activedescendant={active ? `gc-${active.row}-${active.col}` : undefined}
          >
            <div style={{ width, height: HEAD_H + rows.getTotalSize(), position: "relative" }}>
              <div className="grid-head" style={{ width, height: HEAD_H }} role="row">
                <div className="grid-corner" style={{ width: LABEL_W, height: HEAD_H }}>
                  <span className="muted small">
                    {total} run{total === 1 ? "" : "s"}, newest first · {tasks.length} task
                    {tasks.length === 1 ? "" : "s"}
                  </span>
                </div>
                {virtualCols.map((c) => (
                  <div
                    key={c.key}
                    role="columnheader"
                    className={`grid-task ${tasks[c.index] === selectedTask ? "on" : ""}`}
                    style={{ left: LABEL_W + c.start, width: COL_W, height: HEAD_H }}
                    title={tasks[c.index]}
                  >
                    <span>{tasks[c.index]}</span>
                  </div>
                ))}
              </div>
              {virtualRows.map((r) => {
                const run = grid.run(r.index);
                return (
                  <div
                    key={r.key}
                    role="row"
                    className={`grid-row ${run && run.dag_run_id === selectedRun ? "on" : ""}`}
                    style={{ top: HEAD_H + r.start, height: ROW_H, width }}
                  >
                    <button
                      type="button"
                      className="grid-label"
                      style={{ width: LABEL_W, height: ROW_H }}
                      onClick={() => run && select(run.dag_run_id, null)}
                      title={run ? `${run.dag_run_id} (${run.run_type}): ${run.state}` : "loading"}
                    >
                      {run ? (
                        <>
                          <StateMark state={run.state} />
                          <span className="grid-date">{formatDate(run.logical_date ?? run.queued_at)}</span>
                          <span className="muted small">{run.run_type}</span>
                        </>
                      ) : (
                        <span className="muted small">…</span>
                      )}
                    </button>
                    {run &&
                      virtualCols.map((c) => {
                        const taskId = tasks[c.index] ?? "";
                        const cell = grid.cell(run.dag_run_id, taskId);
                        const state = cell?.state ?? null;
                        const on = run.dag_run_id === selectedRun && taskId === selectedTask;
                        const title = cellTitle(taskId, cell);
                        const isActive = active !== null && active.row === r.index && active.col === c.index;
                        // Lean on purpose: a screen of cells is rendered on every scroll frame (a
                        // div, not a button: the grid itself takes focus and keys).
                        return (
                          <div
                            key={c.key}
                            id={`gc-${r.index}-${c.index}`}
                            role="gridcell"
                            className={`grid-cell${on ? " on" : ""}${isActive ? " active" : ""}`}
                            style={{ left: LABEL_W + c.start, width: COL_W, height: ROW_H }}
                            title={title}
                            aria-label={title}
                            aria-selected={on}
                            data-task={taskId}
                            data-run={run.dag_run_id}
                            data-state={state ?? "none"}
                          >
                            <span className={`mark state-${state ?? "none"}`} aria-hidden="true">
                              {stateLook(state).symbol}
                            </span>
                            {cell !== undefined && cell.map_count > 0 && (
                              <span className="map-count">{cell.map_count}</span>
                            )}
                          </div>
                        );
                      })}
                  </div>
                );
              })}
            </div>
          </div>
        )}
      </div>
      {selectedRun !== null && (
        <aside className="side-panel" aria-label="Selection">
          <button
            type="button"
            className="close ghost"
            onClick={() => select(null, null)}
            aria-label="Close the panel"
          >
            ✕
          </button>
          {selectedTask !== null ? (
            <TaskInstancePanel dagId={dagId} runId={selectedRun} taskId={selectedTask} />
          ) : (
            <RunPanel dagId={dagId} runId={selectedRun} />
          )}
        </aside>
      )}
    </div>
  );
}

function cellTitle(taskId: string, cell: GridCell | undefined): string {
  if (cell === undefined) return `${taskId}: no task instance`;
  const mapped =
    cell.map_count > 0
      ? ` · ${cell.map_count} mapped (${Object.entries(cell.mapped_states)
          .map(([s, n]) => `${n} ${s}`)
          .join(", ")})`
      : "";
  return `${taskId}: ${stateLook(cell.state).label}, try ${cell.try_number}${mapped}`;
}

function Legend() {
  return (
    <div className="legend" aria-label="Legend">
      {ALL_STATES.map((s) => (
        <span key={s} className="legend-item">
          <StateMark state={s === "none" ? null : s} /> {stateLook(s).label}
        </span>
      ))}
    </div>
  );
}
