// The one row of an empty table: what is missing (and how to get some), across every column.
import type { ReactNode } from "react";

export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="muted center">
        {children}
      </td>
    </tr>
  );
}
