// A list the server pages, as every Browse section shows it: the request's error, the table (arrow
// keys move between its rows), one row that says why it is empty, and the pager. The offset lives
// in the URL with the filters.
import type { ReactNode } from "react";
import { EmptyRow } from "./EmptyRow";
import { Pager } from "./Pager";
import type { QueryParams } from "./query-params";
import { onRowKeys } from "./row-keys";

export function PagedTable(props: {
  className: string;
  head: ReactNode;
  columns: number;
  error: Error | null;
  /** What the empty table says; null to say nothing (the section explains elsewhere). */
  empty: ReactNode;
  /** Rows of this page; undefined while the first page loads. */
  rows: number | undefined;
  q: QueryParams;
  limit: number;
  total: number;
  children: ReactNode;
}) {
  const offset = Number(props.q.get("offset")) || 0;
  return (
    <>
      {props.error && <p className="error">{props.error.message}</p>}
      <div className="table-wrap">
        <table className={`table ${props.className}`}>
          <thead>
            <tr>{props.head}</tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {props.children}
            {props.rows === 0 && props.empty !== null && (
              <EmptyRow columns={props.columns}>{props.empty}</EmptyRow>
            )}
          </tbody>
        </table>
      </div>
      <Pager
        offset={offset}
        limit={props.limit}
        total={props.total}
        onOffset={(o) => props.q.set({ offset: String(o) })}
      />
    </>
  );
}

/** "3 runs", "1 run": a list's total, once it is known. */
export function countLabel(total: number | undefined, noun: string): string {
  return total === undefined ? "" : `${total} ${noun}${total === 1 ? "" : "s"}`;
}
