// One run's row of the Grid: its label and the cells of the visible columns. The Grid keys rows by
// screen slot, not by run, so a scroll gives an existing row a new run instead of mounting a new one;
// the row then rewrites its existing cell elements' attributes (patchCells), and only a cell whose
// state changes needs its style recomputed. Memoized on plain props, so a scroll renders only the
// rows whose run changed, and a poll only the pages that changed.
import { memo, useLayoutEffect, useMemo, useRef } from "react";
import { StateMark, stateLook } from "../../components/state";
import { formatDate, formatSeconds } from "../../lib/format";
import type { GridColumn } from "./grid-columns";
import {
  cellOf,
  groupCellOf,
  type GridCell,
  type GridData,
  type GridGroupCell,
  type GridRun,
} from "./grid-data";

export const ROW_H = 26; // = .grid-cell height in styles.css
export const COL_W = 28; // = .grid-cell width in styles.css
export const LABEL_W = 250;

interface GridRowProps {
  index: number;
  top: number;
  width: number;
  run: GridRun | undefined;
  page: GridData | undefined;
  columns: readonly GridColumn[];
  /** The visible columns, first and last index (inclusive). */
  colFirst: number;
  colLast: number;
  /** Set only on the selected run's row: the selected task, or null for the run itself. */
  selected: { task: string | null } | null;
  /** The keyboard's active column on this row, or -1. */
  activeCol: number;
}

export const GridRow = memo(function GridRow(props: GridRowProps) {
  const { index, run, page, columns, colFirst, colLast, selected, activeCol } = props;
  const cellsRef = useRef<HTMLDivElement>(null);
  const selectedTask = selected?.task ?? null;
  // The cells are not React elements: a scroll frame brings ~1,000 new cells, and creating
  // elements for them (React's or innerHTML's) and styling them was most of the frame (bench: Grid
  // scroll at 10,000 runs). Clicks and keys are handled on the grid (event delegation).
  useLayoutEffect(() => {
    const el = cellsRef.current;
    if (el !== null) patchCells(el, index, run, page, columns, colFirst, colLast, activeCol, selectedTask);
  }, [index, run, page, columns, colFirst, colLast, activeCol, selectedTask]);
  // The few overlays a row has, as React elements: mapped tasks' counts, and the rings of the
  // keyboard's active cell and of the selected one (a cell's shape is clipped, its own outline
  // would be too).
  const counts = useMemo(
    () => mapCounts(run, page, columns, colFirst, colLast),
    [run, page, columns, colFirst, colLast],
  );
  const selectedCol = selectedTask === null ? -1 : columns.findIndex((c) => c.id === selectedTask);
  const at = (col: number) => ({ left: LABEL_W + col * COL_W });
  return (
    <div
      role="row"
      // A parked row (index -1) waits out of sight for the next scroll.
      aria-hidden={index < 0 ? true : undefined}
      data-index={index}
      className={`grid-row ${props.selected !== null ? "on" : ""}`}
      style={{ top: props.top, height: ROW_H, width: props.width }}
    >
      <button
        type="button"
        className="grid-label"
        style={{ width: LABEL_W, height: ROW_H }}
        data-run={run?.dag_run_id}
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
      {/* The visible columns are contiguous, so the cells flow in a line from the first one's
          offset: child i is column colFirst + i. */}
      <div ref={cellsRef} className="grid-cells" style={{ left: LABEL_W + colFirst * COL_W }} />
      {(run === undefined || page === undefined) && <div className="grid-veil" />}
      {counts.map(([col, count]) => (
        <span key={col} className="map-count" style={at(col)} aria-hidden="true">
          {count}
        </span>
      ))}
      {selectedCol >= 0 && <div className="grid-ring on" style={at(selectedCol)} />}
      {activeCol >= 0 && <div className="grid-ring active" style={at(activeCol)} />}
    </div>
  );
});

/** What one cell element shows; compared with what it showed, so unchanged attributes are not set. */
interface CellLook {
  className: string;
  state: string;
  run: string;
  task: string;
  group: string;
  title: string;
  id: string;
  selected: boolean;
}

const EMPTY: CellLook = {
  className: "grid-cell",
  state: "",
  run: "",
  task: "",
  group: "",
  title: "",
  id: "",
  selected: false,
};

/** The looks last written to each cell element (an expando would be untyped). */
const written = new WeakMap<Element, CellLook>();

function patchCells(
  el: HTMLDivElement,
  index: number,
  run: GridRun | undefined,
  page: GridData | undefined,
  columns: readonly GridColumn[],
  colFirst: number,
  colLast: number,
  activeCol: number,
  selectedTask: string | null,
): void {
  // A row that has shown no run yet (a parked slot) gets its cells when it first does.
  const want =
    el.children.length === 0 && (run === undefined || page === undefined) ? 0 : colLast - colFirst + 1;
  while (el.children.length > want) el.lastElementChild?.remove();
  while (el.children.length < want) {
    const cell = document.createElement("div");
    cell.className = "grid-cell";
    written.set(cell, EMPTY);
    el.append(cell);
  }
  const children = el.children;
  // A run still loading (a fast scroll outruns its page): its cells are covered (GridRow's veil),
  // not removed or restyled, so that when the page comes the cells whose state is unchanged need no
  // style. They lose their run meanwhile.
  if (run === undefined || page === undefined) {
    for (const cell of children) {
      const was = written.get(cell) ?? EMPTY;
      if (was.run === "") continue;
      cell.removeAttribute("data-run");
      written.set(cell, { ...was, run: "" });
    }
    return;
  }
  for (let i = 0; i < want; i++) {
    const c = colFirst + i;
    const cell = children[i];
    if (cell === undefined) break;
    const look = cellLook(run, page, columns[c], c === activeCol ? `gc-${index}-${c}` : "", selectedTask);
    const was = written.get(cell) ?? EMPTY;
    if (look.className !== was.className) cell.className = look.className;
    if (look.state !== was.state) setOrRemove(cell, "data-state", look.state);
    if (look.run !== was.run) setOrRemove(cell, "data-run", look.run);
    if (look.task !== was.task) setOrRemove(cell, "data-task", look.task);
    if (look.group !== was.group) setOrRemove(cell, "data-group", look.group);
    if (look.title !== was.title) setOrRemove(cell, "title", look.title);
    if (look.id !== was.id) setOrRemove(cell, "id", look.id);
    if (look.selected !== was.selected) setOrRemove(cell, "aria-selected", look.selected ? "true" : "");
    if (look.state !== "" && was.state === "") cell.setAttribute("role", "gridcell");
    if (look.state === "" && was.state !== "") cell.removeAttribute("role");
    written.set(cell, look);
  }
}

function setOrRemove(el: Element, name: string, value: string): void {
  if (value === "") el.removeAttribute(name);
  else el.setAttribute(name, value);
}

function cellLook(
  run: GridRun,
  page: GridData,
  column: GridColumn | undefined,
  id: string,
  selectedTask: string | null,
): CellLook {
  // A placeholder keeps the cells contiguous.
  if (column === undefined) return EMPTY;
  if (column.kind === "group") {
    const g = groupCellOf(page, run.dag_run_id, column.id);
    return {
      className: "grid-cell grid-group-cell",
      state: g?.state ?? "none",
      run: run.dag_run_id,
      task: "",
      group: column.id,
      title: groupTitle(column.id, g),
      id,
      selected: false,
    };
  }
  const cell = cellOf(page, run.dag_run_id, column.id);
  const selected = column.id === selectedTask;
  return {
    className: "grid-cell",
    state: cell?.state ?? "none",
    run: run.dag_run_id,
    task: column.id,
    group: "",
    title: cellTitle(column.id, cell),
    id,
    selected,
  };
}

/** The visible mapped tasks' counts: [column, count]. */
function mapCounts(
  run: GridRun | undefined,
  page: GridData | undefined,
  columns: readonly GridColumn[],
  colFirst: number,
  colLast: number,
): [number, number][] {
  const out: [number, number][] = [];
  if (run === undefined || page === undefined) return out;
  for (let c = colFirst; c <= colLast; c++) {
    const column = columns[c];
    if (column?.kind !== "task") continue;
    const n = cellOf(page, run.dag_run_id, column.id)?.map_count ?? 0;
    if (n > 0) out.push([c, n]);
  }
  return out;
}

function cellTitle(taskId: string, cell: GridCell | undefined): string {
  if (cell === undefined) return `${taskId}: no task instance`;
  const mapped =
    cell.map_count > 0
      ? ` · ${cell.map_count} mapped (${Object.entries(cell.mapped_states)
          .map(([s, n]) => `${n} ${s}`)
          .join(", ")})`
      : "";
  const took = cell.duration_s === null ? "" : `, took ${formatSeconds(cell.duration_s)}`;
  return `${taskId}: ${stateLook(cell.state).label}, try ${cell.try_number}${took}${mapped}`;
}

function groupTitle(groupId: string, cell: GridGroupCell | undefined): string {
  if (cell === undefined) return `${groupId}: no task instances`;
  const counts = Object.entries(cell.states)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return `Task group ${groupId}: ${stateLook(cell.state).label} (${counts}); click to expand`;
}
