// A modal dialog for the Admin forms: Escape or a click outside closes it, focus starts on its
// first field, Enter submits the form inside.
import { useEffect, useRef, type ReactNode } from "react";
import { FormFooter } from "./FormFooter";

export function Modal(props: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>("input:not([type=hidden]), select, textarea, button")?.focus();
  }, []);
  return (
    <div className="dialog-backdrop" role="presentation" onClick={props.onClose}>
      <div
        ref={ref}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === "Escape") props.onClose();
        }}
      >
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

/** "Delete X?" with what it affects; the confirm button is the dangerous one. */
export function ConfirmDelete(props: {
  what: string;
  detail?: string;
  pending: boolean;
  error: Error | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal title={`Delete ${props.what}?`} onClose={props.onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          props.onConfirm();
        }}
      >
        <p>{props.detail ?? "This cannot be undone."}</p>
        <FormFooter
          error={props.error}
          pending={props.pending}
          submitLabel="Delete"
          danger
          onCancel={props.onClose}
        />
      </form>
    </Modal>
  );
}
