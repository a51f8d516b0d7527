// The XComs the instance pushed, each value as JSON text.
import { showValue } from "./RenderedFields";
import { useXComs, type TiKey } from "./ti-queries";

export function XComList({ k, live }: { k: TiKey; live: boolean }) {
  const x = useXComs(k, live);
  if (x.isPending) return <p className="muted">Loading XComs…</p>;
  if (x.isError) return <p className="error">{x.error.message}</p>;
  if (x.data.entries.length === 0) return <p className="muted">No XCom pushed.</p>;
  return (
    <>
      <dl className="kv xcoms">
        {x.data.entries.map((e) => (
          <div key={`${e.map_index}\u0000${e.key}`} className="kv-row" data-xcom-key={e.key}>
            <dt className="mono">
              {e.key}
              {e.map_index >= 0 && k.mapIndex < 0 ? <span className="muted"> [{e.map_index}]</span> : null}
            </dt>
            <dd>
              <pre className="value">{showValue(e.value)}</pre>
            </dd>
          </div>
        ))}
      </dl>
      {x.data.total > x.data.entries.length && (
        <p className="muted small">
          {x.data.entries.length} of {x.data.total} shown.
        </p>
      )}
    </>
  );
}
