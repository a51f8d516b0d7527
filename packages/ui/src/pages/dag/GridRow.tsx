// One run's row of the Grid: its label and the cells of the visible columns. Memoized on plain
// props (the run and its page as fetched, the visible column range, this row's selection), so a
// scroll renders only the rows that come into view, and a poll only the pages that changed.
import { memo, useLayoutEffect, useMemo, useRef } from "react";
import { StateMark, stateLook } from "../../components/state";
import { formatDate, formatSeconds } from "../../lib/format";
import { escapeAttr } from "../../lib/html";
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
  const html = useMemo(
    () => cellsHtml(run, page, columns, colFirst, colLast),
    [run, page, columns, colFirst, colLast],
  );
  const cellsRef = useRef<HTMLDivElement>(null);
  const selectedTask = selected?.task ?? null;
  // The selection and the keyboard's active cell are marked on the existing cell elements, not in
  // the HTML: rewriting the row when a mouse press focuses the grid would replace the pressed
  // element before its click (the click would then land on no cell).
  useLayoutEffect(() => {
    const el = cellsRef.current;
    if (el === null) return;
    for (const marked of el.querySelectorAll(".on, .active, [id]")) {
      marked.classList.remove("on", "active");
      marked.removeAttribute("id");
      marked.removeAttribute("aria-selected");
    }
    const active = activeCol >= colFirst ? el.children[activeCol - colFirst] : undefined;
    if (active !== undefined) {
      active.id = `gc-${index}-${activeCol}`;
      active.classList.add("active");
    }
    if (selectedTask !== null) {
      const at = columns.findIndex((c) => c.id === selectedTask);
      const on = at >= colFirst ? el.children[at - colFirst] : undefined;
      on?.classList.add("on");
      on?.setAttribute("aria-selected", "true");
    }
  }, [html, index, activeCol, colFirst, columns, selectedTask]);
  return (
    <div
      role="row"
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
      {/* The cells as one HTML string: a scroll frame brings ~1,300 new cells, and building them as
          React elements was most of the frame (bench: Grid scroll at 10,000 runs). Clicks and keys
          are handled on the grid (event delegation); every value is escaped. The visible columns are
          contiguous, so the cells flow in a row from the first one's offset: no style attribute
          per cell, which the page's Content-Security-Policy would refuse in HTML anyway. */}
      <div
        ref={cellsRef}
        className="grid-cells"
        style={{ left: LABEL_W + colFirst * COL_W }}
        dangerouslySetInnerHTML={{ __html: html }}
      />
    </div>
  );
});

function cellsHtml(
  run: GridRun | undefined,
  page: GridData | undefined,
  columns: readonly GridColumn[],
  colFirst: number,
  colLast: number,
): string {
  if (run === undefined || page === undefined) return "";
  const runAttr = escapeAttr(run.dag_run_id);
  let html = "";
  for (let c = colFirst; c <= colLast; c++) {
    const column = columns[c];
    // A placeholder keeps the cells contiguous (child i is column colFirst + i).
    if (column === undefined) {
      html += '<div class="grid-cell"></div>';
    } else if (column.kind === "group") {
      const g = groupCellOf(page, run.dag_run_id, column.id);
      html +=
        `<div role="gridcell" class="grid-cell grid-group-cell" title="${escapeAttr(groupTitle(column.id, g))}"` +
        ` data-group="${escapeAttr(column.id)}" data-run="${runAttr}" data-state="${escapeAttr(g?.state ?? "none")}"></div>`;
    } else {
      const cell = cellOf(page, run.dag_run_id, column.id);
      const count =
        cell !== undefined && cell.map_count > 0 ? `<span class="map-count">${cell.map_count}</span>` : "";
      html +=
        `<div role="gridcell" class="grid-cell" title="${escapeAttr(cellTitle(column.id, cell))}"` +
        ` data-task="${escapeAttr(column.id)}" data-run="${runAttr}" data-state="${escapeAttr(cell?.state ?? "none")}">${count}</div>`;
    }
  }
  return html;
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
