// The DAG page's Code tab: the DAG file as the DAG processor last stored it
// (GET /dagSources/{file_token}), highlighted, with line numbers, its path and a copy button.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, unwrap } from "../../lib/api";
import { highlightLines } from "./code-highlight";
import "./code.css";
import { useDagDetails } from "./graph-data";

export function CodeTab({ dagId }: { dagId: string }) {
  const details = useDagDetails(dagId);
  const token = details.data?.file_token ?? null;
  const source = useQuery({
    queryKey: ["dag-source", token],
    enabled: token !== null,
    queryFn: () =>
      unwrap(api.GET("/api/v1/dagSources/{file_token}", { params: { path: { file_token: token ?? "" } } })),
  });
  const lines = useMemo(() => (source.data ? highlightLines(source.data.content) : []), [source.data]);
  const [copied, setCopied] = useState<"idle" | "done" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(source.data?.content ?? "");
      setCopied("done");
    } catch {
      setCopied("failed");
    }
    setTimeout(() => setCopied("idle"), 2_000);
  };
  if (details.isError) return <p className="error">{details.error.message}</p>;
  if (details.data && token === null)
    return <p className="muted">This DAG has no file: there is no code to show.</p>;
  return (
    <div className="code-tab">
      <div className="code-bar">
        <code className="code-path" title="The DAG file">
          {details.data?.fileloc ?? ""}
        </code>
        {details.data?.last_parsed_time && (
          <span className="muted small">
            parsed {new Date(details.data.last_parsed_time).toLocaleString()}
          </span>
        )}
        <span className="spacer" />
        <span className="muted small" aria-live="polite">
          {copied === "done" ? "Copied" : copied === "failed" ? "The browser refused the clipboard" : ""}
        </span>
        <button type="button" onClick={() => void copy()} disabled={!source.data}>
          Copy
        </button>
      </div>
      {source.isError && <p className="error">{source.error.message}</p>}
      {source.isPending && token !== null && <p className="muted">Loading the code…</p>}
      {source.data && (
        <pre className="code-view" aria-label={`Source of ${details.data?.fileloc ?? dagId}`} tabIndex={0}>
          <code>
            {lines.map((line, i) => (
              <span className="code-line" key={i}>
                <span className="code-ln" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="code-text">
                  {line.map((p, j) =>
                    p.classes.length === 0 ? (
                      p.text
                    ) : (
                      <span key={j} className={`token ${p.classes.join(" ")}`}>
                        {p.text}
                      </span>
                    ),
                  )}
                  {"\n"}
                </span>
              </span>
            ))}
          </code>
        </pre>
      )}
    </div>
  );
}
