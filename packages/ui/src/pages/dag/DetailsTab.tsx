// The DAG page's Details tab.

/** The DAG's description and doc_md, shown as text: Markdown rendering comes later, and never as HTML. */
export function DetailsTab(props: {
  doc: string | null;
  fileloc: string | null;
  description: string | null;
}) {
  return (
    <div className="details">
      {props.description && <p>{props.description}</p>}
      {props.fileloc && (
        <p className="muted small">
          File: <code>{props.fileloc}</code>
        </p>
      )}
      <h2>Documentation</h2>
      {props.doc ? <pre className="doc">{props.doc}</pre> : <p className="muted">This DAG has no doc_md.</p>}
    </div>
  );
}
