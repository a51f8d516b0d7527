// A modal that asks before an action: its title, what it affects (children), and a confirm
// button. Focus stays inside while it is open (Tab and Shift+Tab cycle), Escape closes, Enter
// confirms (unless a button or text area has the focus: those keep their own Enter), and focus
// goes back to where it was when it closes.
import { useEffect, useRef, type KeyboardEvent, type ReactNode } from "react";
import "./actions.css";

const FOCUSABLE =
  'button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), a[href], [tabindex]:not([tabindex="-1"])';

export function ConfirmDialog({
  title,
  confirmLabel,
  onConfirm,
  onClose,
  busy = false,
  disabled = false,
  danger = false,
  error,
  children,
}: {
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  busy?: boolean;
  disabled?: boolean;
  danger?: boolean;
  error?: string | null | undefined;
  children: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    // The first option if there is one, else the confirm button.
    const first = box.current?.querySelector<HTMLElement>("input, select");
    (first ?? confirmButton.current)?.focus();
    return () => before?.focus();
  }, []);
  const canConfirm = !busy && !disabled;
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onClose();
    } else if (e.key === "Enter") {
      const tag = (e.target as HTMLElement).tagName;
      if (tag === "BUTTON" || tag === "TEXTAREA" || tag === "A") return;
      e.preventDefault();
      if (canConfirm) onConfirm();
    } else if (e.key === "Tab" && box.current) {
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
      const first = items[0];
      const last = items[items.length - 1];
      if (first === undefined || last === undefined) return;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };
  return (
    <div className="dialog-backdrop" role="presentation" onClick={onClose}>
      <div
        ref={box}
        className="dialog action-dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={onKeyDown}
      >
        <h2>{title}</h2>
        {children}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            ref={confirmButton}
            type="button"
            className={danger ? "primary danger" : "primary"}
            disabled={!canConfirm}
            onClick={onConfirm}
          >
            {busy ? "Working…" : confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A row of checkboxes for an action's options. */
export function Options<K extends string>({
  options,
  values,
  onChange,
}: {
  options: readonly { key: K; label: string; hint?: string; disabled?: boolean }[];
  values: Record<K, boolean>;
  onChange: (values: Record<K, boolean>) => void;
}) {
  return (
    <fieldset className="action-options">
      <legend className="muted small">Options</legend>
      {options.map((o) => (
        <label key={o.key} title={o.hint}>
          <input
            type="checkbox"
            name={o.key}
            checked={values[o.key]}
            disabled={o.disabled}
            onChange={(e) => onChange({ ...values, [o.key]: e.target.checked })}
          />{" "}
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}
