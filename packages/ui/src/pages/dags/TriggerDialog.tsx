// Trigger a run: a form generated from the DAG's params (GET /dags/{id}/details), each field
// checked against its spec as the user types, and the conf as JSON, kept in step with the fields.
// The server validates the conf again (PARAMS_INVALID); its message is shown as it comes.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { api, unwrap } from "../../lib/api";
import { paramError, paramSpecs, parseField, showField, type ParamSpec } from "./params";

export function TriggerDialog({ dagId, onClose }: { dagId: string; onClose: (runId?: string) => void }) {
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  return (
    <div className="dialog-backdrop" role="presentation" onClick={() => onClose()}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={`Trigger ${dagId}`}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === "Escape") onClose();
        }}
      >
        <h2>Trigger {details.data?.dag_display_name ?? dagId}</h2>
        {details.isPending && <p>Loading the DAG&apos;s params…</p>}
        {details.isError && <p className="error">{details.error.message}</p>}
        {details.data && (
          <TriggerForm dagId={dagId} params={paramSpecs(details.data.params)} onClose={onClose} />
        )}
      </div>
    </div>
  );
}

function TriggerForm({
  dagId,
  params,
  onClose,
}: {
  dagId: string;
  params: Record<string, ParamSpec>;
  onClose: (runId?: string) => void;
}) {
  const client = useQueryClient();
  const names = Object.keys(params);
  const [fields, setFields] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((n) => [n, showField(params[n]?.default)])),
  );
  const [confText, setConfText] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [runId, setRunId] = useState("");

  // The conf: from the fields, unless the user edited the JSON directly.
  const fromFields = useMemo(() => {
    const conf: Record<string, unknown> = {};
    for (const n of names) {
      const parsed = parseField(fields[n] ?? "", params[n] ?? {});
      if (parsed !== undefined) conf[n] = parsed;
    }
    return conf;
  }, [fields, names, params]);
  const conf = confText ?? JSON.stringify(fromFields, null, 2);
  let confError: string | null = null;
  let confValue: Record<string, unknown> = {};
  try {
    const v = JSON.parse(conf) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v))
      confError = "The conf must be a JSON object.";
    else confValue = v as Record<string, unknown>;
  } catch (err) {
    confError = `The conf is not valid JSON: ${(err as Error).message}`;
  }
  const fieldErrors = Object.fromEntries(
    names.map((n) => [n, paramError(confValue[n], n in confValue, params[n] ?? {})]),
  );
  const invalid = confError !== null || Object.values(fieldErrors).some((e) => e !== null);

  const trigger = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/dags/{dag_id}/dagRuns", {
          params: { path: { dag_id: dagId } },
          body: { conf: confValue, ...(note ? { note } : {}), ...(runId ? { dag_run_id: runId } : {}) },
        }),
      ),
    onSuccess: async (run) => {
      await client.invalidateQueries({ queryKey: ["dag", dagId] });
      await client.invalidateQueries({ queryKey: ["dags"] });
      onClose(run.dag_run_id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!invalid) trigger.mutate();
  };
  return (
    <form onSubmit={submit} className="form">
      {names.length === 0 && <p className="muted">This DAG has no params.</p>}
      {names.map((n) => {
        const spec = params[n] ?? {};
        const id = `param-${n}`;
        return (
          <div className="field" key={n}>
            <label htmlFor={id}>
              {spec.title ?? n} {spec.title !== undefined && <code className="muted">{n}</code>}
              {!("default" in spec) && <span className="required"> (required)</span>}
            </label>
            {spec.description !== undefined && <p className="muted small">{spec.description}</p>}
            {Array.isArray(spec.enum) ? (
              <select
                id={id}
                value={fields[n] ?? ""}
                onChange={(e) => {
                  setConfText(null);
                  setFields({ ...fields, [n]: e.target.value });
                }}
              >
                {spec.enum.map((v) => (
                  <option key={showField(v)} value={showField(v)}>
                    {showField(v)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                value={fields[n] ?? ""}
                placeholder={
                  Array.isArray(spec.type) ? spec.type.join(" | ") : (spec.type ?? "any JSON value")
                }
                onChange={(e) => {
                  setConfText(null);
                  setFields({ ...fields, [n]: e.target.value });
                }}
                aria-invalid={fieldErrors[n] !== null}
              />
            )}
            {fieldErrors[n] && <p className="error small">{fieldErrors[n]}</p>}
          </div>
        );
      })}
      <div className="field">
        <label htmlFor="trigger-conf">Conf (JSON)</label>
        <textarea
          id="trigger-conf"
          rows={Math.min(12, conf.split("\n").length + 1)}
          value={conf}
          spellCheck={false}
          onChange={(e) => setConfText(e.target.value)}
        />
        {confError && <p className="error small">{confError}</p>}
      </div>
      <details>
        <summary>Run id and note</summary>
        <div className="field">
          <label htmlFor="trigger-run-id">Run id (optional)</label>
          <input id="trigger-run-id" value={runId} onChange={(e) => setRunId(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="trigger-note">Note (optional)</label>
          <input id="trigger-note" value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
      </details>
      {trigger.isError && (
        <p className="error" role="alert">
          {trigger.error.message}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={() => onClose()}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={invalid || trigger.isPending}>
          {trigger.isPending ? "Triggering…" : "Trigger"}
        </button>
      </div>
    </form>
  );
}
