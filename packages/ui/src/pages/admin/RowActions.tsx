// A row's Edit and Delete buttons (each only when given: the role or the item may forbid it),
// labelled with the item's name for screen readers, after any buttons of the section's own.
import type { ReactNode } from "react";

export function RowActions(props: {
  name: string;
  onEdit?: (() => void) | false;
  onDelete?: (() => void) | false;
  children?: ReactNode;
}) {
  return (
    <td>
      <div className="row-actions">
        {props.children}
        {props.onEdit && (
          <button type="button" onClick={props.onEdit} aria-label={`Edit ${props.name}`}>
            Edit
          </button>
        )}
        {props.onDelete && (
          <button
            type="button"
            className="danger"
            onClick={props.onDelete}
            aria-label={`Delete ${props.name}`}
          >
            Delete
          </button>
        )}
      </div>
    </td>
  );
}
