// A column header that sorts the list by Airflow's `order_by` (`col` ascending, `-col`
// descending): a click toggles; aria-sort tells screen readers which column sorts.
import type { ReactNode } from "react";

export function SortHeader(props: {
  column: string;
  orderBy: string;
  onOrderBy: (orderBy: string) => void;
  className?: string;
  children: ReactNode;
}) {
  const { column, orderBy } = props;
  const on = orderBy === column || orderBy === `-${column}`;
  const desc = orderBy === `-${column}`;
  return (
    <th aria-sort={on ? (desc ? "descending" : "ascending") : "none"} className={props.className}>
      <button
        type="button"
        className="sort-header"
        onClick={() => props.onOrderBy(on && !desc ? `-${column}` : column)}
        title="Sort by this column"
      >
        {props.children}
        <span aria-hidden="true">{on ? (desc ? " ▼" : " ▲") : " ↕"}</span>
      </button>
    </th>
  );
}
