// Variables: search by key or description, create, edit, delete. Values of keys that name a
// secret come back from the API as "***" and stay hidden here: editing such a variable leaves
// its value unchanged unless a new one is typed. JSON values are shown and checked as JSON.
import { useState, type FormEvent } from "react";
import type { components } from "updraft/client";
import { Pager } from "../../components/table/Pager";
import { useQueryParams } from "../../components/table/query-params";
import { onRowKeys } from "../../components/table/row-keys";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { useAdminCollection, useSave } from "./admin-collection";
import { prettyJson } from "./fetch-all";
import { FormFooter } from "./FormFooter";
import { ConfirmDelete, Modal } from "./Modal";
import { EmptyRow } from "../../components/table/EmptyRow";
import { RowActions } from "./RowActions";

type Variable = components["schemas"]["Variable"];
const KEY = ["admin", "variables"] as const;
const PAGE = 100;
const MASK = "***";

export function VariablesSection() {
  const q = useQueryParams();
  const text = q.get("search").toLowerCase();
  const offset = Number(q.get("offset")) || 0;
  const canCreate = useCan("variables:create");
  const canEdit = useCan("variables:edit");
  const canDelete = useCan("variables:delete");
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const { all, deleting, setDeleting, confirm } = useAdminCollection<Variable>({
    key: KEY,
    page: async (o, limit) => {
      const r = await unwrap(api.GET("/api/v1/variables", { params: { query: { offset: o, limit } } }));
      return { items: r.variables, total: r.total_entries };
    },
    remove: (v) => unwrap(api.DELETE("/api/v1/variables/{key}", { params: { path: { key: v.key } } })),
  });
  const matching = (all.data ?? []).filter(
    (v) =>
      text === "" || v.key.toLowerCase().includes(text) || (v.description ?? "").toLowerCase().includes(text),
  );
  const shown = matching.slice(offset, offset + PAGE);

  return (
    <section aria-label="Variables">
      <div className="toolbar" role="search">
        <input
          type="search"
          placeholder="Search variables by key or description…"
          aria-label="Search variables"
          defaultValue={q.get("search")}
          onChange={(e) => q.set({ search: e.target.value })}
        />
        <span className="muted">{all.data ? `${matching.length} of ${all.data.length}` : ""}</span>
        <div className="spacer" />
        {canCreate && (
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            + Add variable
          </button>
        )}
      </div>
      {all.isError && <p className="error">{all.error.message}</p>}
      <div className="table-wrap">
        <table className="table variables">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Description</th>
              {(canEdit || canDelete) && <th className="narrow">Actions</th>}
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {shown.map((v) => (
              <tr key={v.key} data-row="" data-key={v.key} tabIndex={0}>
                <td className="mono">{v.key}</td>
                <td className="clip">
                  <VariableValue value={v.value} />
                </td>
                <td>{v.description ?? ""}</td>
                {(canEdit || canDelete) && (
                  <RowActions
                    name={v.key}
                    onEdit={canEdit && (() => setEditing(v))}
                    onDelete={canDelete && (() => setDeleting(v))}
                  />
                )}
              </tr>
            ))}
            {all.data && shown.length === 0 && (
              <EmptyRow columns={4}>
                {all.data.length === 0
                  ? "No variables yet. Tasks read them with Variable.get(key)."
                  : "No variable matches the search."}
              </EmptyRow>
            )}
          </tbody>
        </table>
      </div>
      <Pager
        offset={offset}
        limit={PAGE}
        total={matching.length}
        onOffset={(o) => q.set({ offset: String(o) })}
      />
      {editing !== null && (
        <VariableForm variable={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting !== null && (
        <ConfirmDelete
          what={`variable ${deleting.key}`}
          detail="Tasks that read it will fail or fall back to their default."
          {...confirm(deleting)}
        />
      )}
    </section>
  );
}

function VariableValue({ value }: { value: string | null }) {
  if (value === null) return <span className="muted">null</span>;
  if (value === MASK)
    return (
      <span className="muted" title="The key names a secret: its value is never shown">
        *** hidden
      </span>
    );
  const json = prettyJson(value);
  if (json !== null)
    return (
      <>
        <span className="badge">JSON</span>{" "}
        <span className="mono">{value.length > 300 ? `${value.slice(0, 300)}…` : value}</span>
      </>
    );
  return <span className="mono">{value.length > 300 ? `${value.slice(0, 300)}…` : value}</span>;
}

function VariableForm({ variable, onClose }: { variable: Variable | null; onClose: () => void }) {
  const masked = variable?.value === MASK;
  const [key, setKey] = useState(variable?.key ?? "");
  const [value, setValue] = useState(masked ? "" : (variable?.value ?? ""));
  const [description, setDescription] = useState(variable?.description ?? "");
  const looksJson = /^\s*[[{]/.test(value);
  const jsonError =
    looksJson && prettyJson(value) === null ? "This looks like JSON but does not parse." : null;
  const save = useSave(
    KEY,
    async () => {
      const desc = description === "" ? null : description;
      if (variable === null)
        return unwrap(api.POST("/api/v1/variables", { body: { key, value, description: desc } }));
      return unwrap(
        api.PATCH("/api/v1/variables/{key}", {
          params: { path: { key: variable.key } },
          // A hidden secret stays as it is unless a new value is typed.
          body: { description: desc, ...(masked && value === "" ? {} : { value }) },
        }),
      );
    },
    onClose,
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Modal title={variable === null ? "Add variable" : `Edit variable ${variable.key}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="var-key">Key</label>
          <input
            id="var-key"
            name="key"
            required
            maxLength={250}
            value={key}
            readOnly={variable !== null}
            onChange={(e) => setKey(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="var-value">Value</label>
          <textarea
            id="var-value"
            name="value"
            rows={6}
            value={value}
            placeholder={
              masked ? "Hidden secret: leave empty to keep it, or type a new value" : "text or JSON"
            }
            aria-invalid={jsonError !== null}
            onChange={(e) => setValue(e.target.value)}
          />
          {jsonError && <p className="error small">{jsonError}</p>}
          {looksJson && jsonError === null && (
            <p className="muted small">
              Valid JSON.{" "}
              <button type="button" className="link" onClick={() => setValue(prettyJson(value) ?? value)}>
                Format
              </button>
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="var-description">Description</label>
          <input
            id="var-description"
            name="description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <FormFooter error={save.error} pending={save.isPending} disabled={key === ""} onCancel={onClose} />
      </form>
    </Modal>
  );
}
