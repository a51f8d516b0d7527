// Keyboard navigation in a list table: ↑/↓ (and j/k) move between rows, Home/End to the first
// and last; Enter on a row follows its main link (a[data-primary], else its first link). Rows carry
// tabIndex=0 and data-row.
import type { KeyboardEvent } from "react";

export function onRowKeys(e: KeyboardEvent<HTMLTableSectionElement>): void {
  const row = (e.target as HTMLElement).closest<HTMLTableRowElement>("tr[data-row]");
  if (row === null || e.target !== row) return;
  const rows = [...e.currentTarget.querySelectorAll<HTMLTableRowElement>("tr[data-row]")];
  const i = rows.indexOf(row);
  let next: HTMLTableRowElement | undefined;
  if (e.key === "ArrowDown" || e.key === "j") next = rows[i + 1];
  else if (e.key === "ArrowUp" || e.key === "k") next = rows[i - 1];
  else if (e.key === "Home") next = rows[0];
  else if (e.key === "End") next = rows[rows.length - 1];
  else if (e.key === "Enter") {
    (
      row.querySelector<HTMLAnchorElement>("a[data-primary]") ??
      row.querySelector<HTMLAnchorElement>("a[href]")
    )?.click();
    e.preventDefault();
    return;
  } else return;
  e.preventDefault();
  next?.focus();
}
