// One run's row of the Grid: its label and the cells of the visible columns. Memoized on plain
// props (the run and its page as fetched, the visible column range, this row's selection), so a
// scroll renders only the rows that come into view, and a poll only the pages that changed.
import { memo } from "react";
import { StateMark, stateLook } from "../../components/state";
import { formatDate } from "../../lib/format";
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
  const { index, run, page, columns, selected, activeCol } = props;
  const cells = [];
  if (run !== undefined && page !== undefined) {
    for (let c = props.colFirst; c <= props.colLast; c++) {
      const column = columns[c];
      if (column === undefined) continue;
      const isActive = activeCol === c;
      const left = LABEL_W + c * COL_W;
      if (column.kind === "group") {
        const g = groupCellOf(page, run.dag_run_id, column.id);
        cells.push(
          <div
            key={`g:${column.id}`}
            id={isActive ? `gc-${index}-${c}` : undefined}
            role="gridcell"
            className={`grid-cell grid-group-cell${isActive ? " active" : ""}`}
            style={{ left }}
            title={groupTitle(column.id, g)}
            data-group={column.id}
            data-run={run.dag_run_id}
            data-state={g?.state ?? "none"}
          />,
        );
        continue;
      }
      const cell = cellOf(page, run.dag_run_id, column.id);
      const on = selected !== null && selected.task === column.id;
      // Lean on purpose: a screen of cells is rendered on every scroll frame. One element per
      // cell (the mark is its ::before, shaped by data-state in state-icons.css), a div not a
      // button (the grid itself takes focus and keys), the title as its name, an id only on the
      // active cell.
      cells.push(
        <div
          key={column.id}
          id={isActive ? `gc-${index}-${c}` : undefined}
          role="gridcell"
          className={`grid-cell${on ? " on" : ""}${isActive ? " active" : ""}`}
          style={{ left }}
          title={cellTitle(column.id, cell)}
          aria-selected={on || undefined}
          data-task={column.id}
          data-run={run.dag_run_id}
          data-state={cell?.state ?? "none"}
        >
          {cell !== undefined && cell.map_count > 0 && <span className="map-count">{cell.map_count}</span>}
        </div>,
      );
    }
  }
  return (
    <div
      role="row"
      data-index={index}
      className={`grid-row ${selected !== null ? "on" : ""}`}
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
      {cells}
    </div>
  );
});

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

function groupTitle(groupId: string, cell: GridGroupCell | undefined): string {
  if (cell === undefined) return `${groupId}: no task instances`;
  const counts = Object.entries(cell.states)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return `Task group ${groupId}: ${stateLook(cell.state).label} (${counts}); click to expand`;
}
