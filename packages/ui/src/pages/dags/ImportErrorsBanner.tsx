// DAG files that failed to parse: the file and the message, so the author can fix them.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";

export function ImportErrorsBanner() {
  const can = useCan("import_errors:read");
  const [open, setOpen] = useState(false);
  const errors = useQuery({
    queryKey: ["importErrors"],
    queryFn: () => unwrap(api.GET("/api/v1/importErrors", { params: { query: { limit: 100 } } })),
    enabled: can,
    refetchInterval: 30_000,
  });
  const list = errors.data?.import_errors ?? [];
  if (list.length === 0) return null;
  return (
    <section className="banner error" aria-label="Import errors">
      <button type="button" className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "▾" : "▸"} {errors.data?.total_entries} DAG file{list.length === 1 ? "" : "s"} failed to load
      </button>
      {open && (
        <ul>
          {list.map((e) => (
            <li key={e.import_error_id}>
              <strong>{e.filename}</strong>
              {e.line !== null ? `:${e.line}` : ""}
              <pre>{e.stack_trace}</pre>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
