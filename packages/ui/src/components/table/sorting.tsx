// A list's sort order and page offset from the URL, and its sortable column headers.
import { SortHeader } from "./SortHeader";
import type { QueryParams } from "./query-params";

export function useSorting<Order extends string>(q: QueryParams, fallback: Order) {
  const orderBy = (q.get("order_by") || fallback) as Order;
  const offset = Number(q.get("offset")) || 0;
  const sort = (column: string, label: string, className?: string) => (
    <SortHeader
      column={column}
      orderBy={orderBy}
      onOrderBy={(o) => q.set({ order_by: o })}
      {...(className ? { className } : {})}
    >
      {label}
    </SortHeader>
  );
  return { orderBy, offset, sort };
}
