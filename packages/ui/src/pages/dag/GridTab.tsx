// The Grid: one row per run (newest first), one column per task, each cell the task instance's
// state as colour and symbol. Rows and columns are virtualized (@tanstack/react-virtual): only what
// is on screen is in the DOM, so 10,000 runs × 100 tasks scroll like 20. A click opens the side
// panel with the task instance and its log; the selection is in the URL (?run=&task=).
// Keyboard: the grid is one tab stop; arrows, Page Up/Down and Home/End move the active cell
// (aria-activedescendant, since a virtualized cell can leave the DOM), Enter opens it, Escape
// closes the panel.
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef, useState, type KeyboardEvent } from "react";
import { ALL_STATES, StateMark, stateLook } from "../../components/state";
import { api, unwrap } from "../../lib/api";
import { navigate, useLocation } from "../../lib/router";
import { gridColumns, type GridColumn } from "./grid-columns";
import { COL_W, GridRow, LABEL_W, ROW_H } from "./GridRow";
import { taskOrder, useGridFirstPage, useGridPages } from "./grid-data";
import { useFlying } from "./grid-flying";
import { RunPanel, TaskInstancePanel } from "./TaskInstancePanel";

const HEAD_H = 150;
/** Row elements kept for reuse: more than the rows a tall screen shows, with the overscan. */
const ROW_SLOTS = 48;
/** Where a row element without a run waits: above the grid, out of the scrollable area. */
const PARKED_TOP = -10_000;
/** The height of an expanded task group's band in the header, one per nesting level. */
const BAND_H = 20;

export function GridTab({ dagId }: { dagId: string }) {
  const { pathname, search } = useLocation();
  const selectedRun = search.get("run");
  const selectedTask = search.get("task");
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggleGroup = (id: string) =>
    setExpanded((e) => {
      const next = new Set(e);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const dagData = details.data;
  const { columns, bands } = useMemo(() => {
    if (dagData === undefined) return { columns: [] as GridColumn[], bands: [] };
    const taskGroup = new Map(
      dagData.tasks.map((t) => [
        String(t["task_id"]),
        (t["task_group_id"] as string | null | undefined) ?? null,
      ]),
    );
    const parentGroup = new Map(
      dagData.task_groups.map((g) => [
        String(g["group_id"]),
        (g["parent_group_id"] as string | null) ?? null,
      ]),
    );
    return gridColumns(taskOrder(dagData.tasks), taskGroup, parentGroup, expanded);
  }, [dagData, expanded]);
  const taskCount = dagData?.tasks.length ?? 0;
  const scroller = useRef<HTMLDivElement>(null);
  const first = useGridFirstPage(dagId);
  const total = first.data?.total_entries ?? 0;
  const rows = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_H,
    overscan: 3,
    scrollMargin: 0,
    // Render in React's own batch, not synchronously inside each scroll event.
    useFlushSync: false,
  });
  const cols = useVirtualizer({
    horizontal: true,
    count: columns.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => COL_W,
    overscan: 2,
    useFlushSync: false,
  });
  const virtualRows = rows.getVirtualItems();
  const flying = useFlying(virtualRows[0]?.index ?? 0);
  const grid = useGridPages(
    dagId,
    first,
    virtualRows.map((r) => r.index),
    flying,
  );
  const virtualCols = cols.getVirtualItems();
  const colFirst = virtualCols[0]?.index ?? 0;
  const colLast = virtualCols.at(-1)?.index ?? -1;
  const slots = Math.max(ROW_SLOTS, virtualRows.length);

  const select = (runId: string | null, taskId: string | null) => {
    const next = new URLSearchParams(search);
    if (runId === null) next.delete("run");
    else next.set("run", runId);
    if (taskId === null) next.delete("task");
    else next.set("task", taskId);
    const q = next.toString();
    navigate(`${pathname}${q ? `?${q}` : ""}`, { replace: true });
  };

  // One object per selection, so that only the selected row re-renders when it changes.
  const selectedRow = useMemo(() => ({ task: selectedTask }), [selectedTask]);
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
      const column = columns[at.col];
      if (column?.kind === "group") toggleGroup(column.id);
      else if (run && column !== undefined) select(run.dag_run_id, column.id);
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
    else if (e.key === "End") next = { row: e.ctrlKey ? total - 1 : at.row, col: columns.length - 1 };
    if (next === null) return;
    e.preventDefault();
    next = {
      row: Math.min(Math.max(next.row, 0), Math.max(total - 1, 0)),
      col: Math.min(Math.max(next.col, 0), Math.max(columns.length - 1, 0)),
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
              const label = (e.target as HTMLElement).closest<HTMLElement>(".grid-label");
              const labelRun = label?.dataset["run"];
              if (labelRun !== undefined) {
                select(labelRun, null);
                return;
              }
              const cell = cellAt(e.target as HTMLElement, e.clientX);
              const runId = cell?.dataset["run"];
              const taskId = cell?.dataset["task"];
              const groupId = cell?.dataset["group"];
              // The clicked cell becomes the keyboard's active cell too.
              const row = Number(cell?.closest<HTMLElement>(".grid-row")?.dataset["index"] ?? NaN);
              const col = columns.findIndex((c) => c.id === (groupId ?? taskId));
              if (Number.isInteger(row) && col >= 0) setActive({ row, col });
              if (groupId !== undefined) toggleGroup(groupId);
              else if (runId !== undefined && taskId !== undefined) select(runId, taskId);
            }}
            aria-rowcount={total}
            aria-colcount={columns.length + 1}
            tabIndex={0}
            onKeyDown={onKeyDown}
            onFocus={() => setActive((a) => a ?? { row: 0, col: 0 })}
            aria-activedescendant={active ? `gc-${active.row}-${active.col}` : undefined}
          >
            <div style={{ width, height: HEAD_H + rows.getTotalSize(), position: "relative" }}>
              <div className="grid-head" style={{ width, height: HEAD_H }} role="row">
                <div className="grid-corner" style={{ width: LABEL_W, height: HEAD_H }}>
                  <span className="muted small">
                    {total} run{total === 1 ? "" : "s"}, newest first · {taskCount} task
                    {taskCount === 1 ? "" : "s"}
                  </span>
                </div>
                {bands.map((b) => (
                  <button
                    type="button"
                    key={`band-${b.id}`}
                    className="grid-band"
                    style={{
                      left: LABEL_W + b.first * COL_W,
                      width: (b.last - b.first + 1) * COL_W,
                      top: b.depth * BAND_H,
                      height: BAND_H - 2,
                    }}
                    onClick={() => toggleGroup(b.id)}
                    title={`Collapse the task group ${b.id}`}
                    aria-expanded={true}
                  >
                    ▾ {b.id}
                  </button>
                ))}
                {virtualCols.map((c) => {
                  const column = columns[c.index];
                  if (column === undefined) return null;
                  const top = column.groups.length * BAND_H;
                  return column.kind === "group" ? (
                    <button
                      type="button"
                      key={c.key}
                      role="columnheader"
                      className="grid-task grid-group"
                      style={{ left: LABEL_W + c.start, width: COL_W, height: HEAD_H - top, top }}
                      onClick={() => toggleGroup(column.id)}
                      title={`Task group ${column.id}: ${column.size} tasks (expand)`}
                      aria-expanded={false}
                    >
                      <span>
                        ▸ {column.id} ({column.size})
                      </span>
                    </button>
                  ) : (
                    <div
                      key={c.key}
                      role="columnheader"
                      className={`grid-task ${column.id === selectedTask ? "on" : ""}`}
                      style={{ left: LABEL_W + c.start, width: COL_W, height: HEAD_H - top, top }}
                      title={column.id}
                    >
                      <span>{shortName(column)}</span>
                    </div>
                  );
                })}
              </div>
              {/* Rows are keyed by their place on screen, not by run: a scroll gives each row
                  element another run, its elements kept (a new row's elements and their style were
                  most of a scroll frame). The rows sit still in a band that moves (one element's
                  style a frame, not a row's each); a place past the rendered rows is parked out of
                  sight, mounted, for the next scroll. */}
              <div className="grid-rows" style={{ top: HEAD_H + (virtualRows[0]?.start ?? 0), width }}>
                {Array.from({ length: slots }, (_, place) => {
                  const r = virtualRows[place];
                  const run = r === undefined ? undefined : grid.run(r.index);
                  const isSelected = run !== undefined && run.dag_run_id === selectedRun;
                  return (
                    <GridRow
                      key={place}
                      index={r?.index ?? -1}
                      top={r === undefined ? PARKED_TOP : place * ROW_H}
                      width={width}
                      run={run}
                      page={r === undefined ? undefined : grid.page(r.index)}
                      columns={columns}
                      colFirst={colFirst}
                      colLast={colLast}
                      selected={isSelected ? selectedRow : null}
                      activeCol={r !== undefined && active?.row === r.index ? active.col : -1}
                    />
                  );
                })}
              </div>
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

/**
 * The cell a click landed on: the target itself, or, for a click between two marks (a cell is its
 * mark, with margins), the cell of the column under the pointer.
 */
function cellAt(target: HTMLElement, clientX: number): HTMLElement | null {
  const cell = target.closest<HTMLElement>(".grid-cell");
  if (cell !== null) return cell;
  const cells = target.closest(".grid-row")?.querySelector(".grid-cells");
  if (cells === null || cells === undefined) return null;
  const i = Math.floor((clientX - cells.getBoundingClientRect().left) / COL_W);
  const hit = i >= 0 ? cells.children[i] : undefined;
  return hit instanceof HTMLElement && hit.matches(".grid-cell[role=gridcell]") ? hit : null;
}

/** A task's name without its groups' prefix (the band above says which group it is in). */
function shortName(column: GridColumn): string {
  const group = column.groups.at(-1);
  return group !== undefined && column.id.startsWith(`${group}.`)
    ? column.id.slice(group.length + 1)
    : column.id;
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
