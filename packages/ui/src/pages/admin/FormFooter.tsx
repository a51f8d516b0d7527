// The end of every Admin form: the server's refusal in words, then Cancel and the submit button.
export function FormFooter(props: {
  error: Error | null;
  pending: boolean;
  disabled?: boolean;
  submitLabel?: string;
  /** The submit button destroys something (and looks it). */
  danger?: boolean;
  onCancel: () => void;
}) {
  return (
    <>
      {props.error && (
        <p className="error" role="alert">
          {props.error.message}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className={props.danger === true ? "primary danger" : "primary"}
          disabled={props.pending || props.disabled === true}
        >
          {props.submitLabel ?? "Save"}
        </button>
      </div>
    </>
  );
}
