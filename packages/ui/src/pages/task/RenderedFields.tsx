// The task's template fields as the runner rendered them for this try (Airflow's
// rendered_fields; secrets already masked by the runner). Values are text or formatted JSON.

export function RenderedFields({ fields }: { fields: unknown }) {
  if (fields === null || fields === undefined || typeof fields !== "object")
    return (
      <p className="muted">No rendered fields: the task has no template fields, or it has not run yet.</p>
    );
  const entries = Object.entries(fields as Record<string, unknown>);
  if (entries.length === 0) return <p className="muted">No rendered fields.</p>;
  return (
    <dl className="kv">
      {entries.map(([name, value]) => (
        <div key={name} className="kv-row">
          <dt className="mono">{name}</dt>
          <dd>
            <pre className="value">{showValue(value)}</pre>
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** A string as it is; anything else as indented JSON. */
export function showValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2);
}
