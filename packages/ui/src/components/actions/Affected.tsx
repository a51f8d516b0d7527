// The preview of an action: the task instances it would change, as the API's dry run lists them.
import { StateMark } from "../state";

export interface AffectedTi {
  /** Set by clears: ExternalTaskMarkers add task instances of other DAGs. */
  dag_id?: string;
  dag_run_id: string;
  task_id: string;
  map_index: number;
  state?: string | null;
}

export function Affected({
  what,
  items,
  pending,
  error,
}: {
  /** What the action does, as in "to clear", "to mark failed". */
  what: string;
  items: readonly AffectedTi[] | undefined;
  pending: boolean;
  error: string | null;
}) {
  if (error !== null) return <p className="error">{error}</p>;
  if (pending || items === undefined) return <p className="muted">Finding what {what}…</p>;
  if (items.length === 0)
    return <p className="muted affected-none">Nothing to change: no task instance matches.</p>;
  const runs = new Set(items.map((t) => `${t.dag_id ?? ""}\u0000${t.dag_run_id}`));
  // The first item is of the DAG acted on; others come from ExternalTaskMarkers.
  const ownDag = items[0]?.dag_id;
  return (
    <div className="affected">
      <p className="small">
        <span className="affected-what">{what[0]?.toUpperCase() + what.slice(1)}</span>:{" "}
        <strong>{items.length}</strong> task instance{items.length === 1 ? "" : "s"}
        {runs.size > 1 ? ` in ${runs.size} runs` : ""}
      </p>
      <ul className="affected-list" aria-label="Affected task instances">
        {items.map((t) => (
          <li
            key={`${t.dag_id ?? ""}\u0000${t.dag_run_id}\u0000${t.task_id}\u0000${t.map_index}`}
            data-task={t.task_id}
            data-dag={t.dag_id}
          >
            {t.state !== undefined && <StateMark state={t.state} />}
            {t.dag_id !== undefined && t.dag_id !== ownDag && <span className="mono">{t.dag_id} › </span>}
            <span className="mono">{t.task_id}</span>
            {t.map_index >= 0 && <span className="muted"> [{t.map_index}]</span>}
            {runs.size > 1 && <span className="muted small mono"> {t.dag_run_id}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
