// Connections: list, create, edit, delete. The password is write-only (the API never returns
// it) and extra comes back with its secret keys as "***": an edit sends only the fields that
// changed, so hidden secrets stay as they are unless replaced. The API has no connection test
// route yet, so there is no "Test" button.
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

type Connection = components["schemas"]["Connection"];
const KEY = ["admin", "connections"] as const;
const PAGE = 100;
const TYPES = ["postgres", "mysql", "http", "https", "ssh", "sftp", "smtp", "s3", "aws", "redis", "generic"];

export function ConnectionsSection() {
  const q = useQueryParams();
  const text = q.get("search").toLowerCase();
  const offset = Number(q.get("offset")) || 0;
  const canCreate = useCan("connections:create");
  const canEdit = useCan("connections:edit");
  const canDelete = useCan("connections:delete");
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const { all, deleting, setDeleting, confirm } = useAdminCollection<Connection>({
    key: KEY,
    page: async (o, limit) => {
      const r = await unwrap(api.GET("/api/v1/connections", { params: { query: { offset: o, limit } } }));
      return { items: r.connections, total: r.total_entries };
    },
    remove: (c) =>
      unwrap(
        api.DELETE("/api/v1/connections/{connection_id}", {
          params: { path: { connection_id: c.connection_id } },
        }),
      ),
  });
  const matching = (all.data ?? []).filter(
    (c) =>
      text === "" ||
      c.connection_id.toLowerCase().includes(text) ||
      c.conn_type.toLowerCase().includes(text) ||
      (c.host ?? "").toLowerCase().includes(text),
  );
  const shown = matching.slice(offset, offset + PAGE);
  return (
    <section aria-label="Connections">
      <div className="toolbar" role="search">
        <input
          type="search"
          placeholder="Search by id, type or host…"
          aria-label="Search connections"
          defaultValue={q.get("search")}
          onChange={(e) => q.set({ search: e.target.value })}
        />
        <span className="muted">{all.data ? `${matching.length} of ${all.data.length}` : ""}</span>
        <div className="spacer" />
        {canCreate && (
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            + Add connection
          </button>
        )}
      </div>
      {all.isError && <p className="error">{all.error.message}</p>}
      <div className="table-wrap">
        <table className="table connections">
          <thead>
            <tr>
              <th>Connection id</th>
              <th>Type</th>
              <th>Host</th>
              <th className="num">Port</th>
              <th>Login</th>
              <th>Schema</th>
              <th>Extra</th>
              {(canEdit || canDelete) && <th className="narrow">Actions</th>}
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {shown.map((c) => (
              <tr key={c.connection_id} data-row="" data-key={c.connection_id} tabIndex={0}>
                <td className="mono">
                  {c.connection_id}
                  {c.description && <div className="muted small">{c.description}</div>}
                </td>
                <td>{c.conn_type}</td>
                <td className="mono">{c.host ?? ""}</td>
                <td className="num">{c.port ?? ""}</td>
                <td>{c.login ?? ""}</td>
                <td>{c.schema ?? ""}</td>
                <td className="clip mono small">{c.extra ?? ""}</td>
                {(canEdit || canDelete) && (
                  <RowActions
                    name={c.connection_id}
                    onEdit={canEdit && (() => setEditing(c))}
                    onDelete={canDelete && (() => setDeleting(c))}
                  />
                )}
              </tr>
            ))}
            {all.data && shown.length === 0 && (
              <EmptyRow columns={8}>
                {all.data.length === 0 ? "No connections yet." : "No connection matches the search."}
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
        <ConnectionForm connection={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting !== null && (
        <ConfirmDelete
          what={`connection ${deleting.connection_id}`}
          detail="Tasks that use it will fail until it is created again."
          {...confirm(deleting)}
        />
      )}
    </section>
  );
}

type Fields = Record<
  "connection_id" | "conn_type" | "description" | "host" | "login" | "port" | "schema" | "extra",
  string
>;

function fieldsOf(c: Connection | null): Fields {
  return {
    connection_id: c?.connection_id ?? "",
    conn_type: c?.conn_type ?? "",
    description: c?.description ?? "",
    host: c?.host ?? "",
    login: c?.login ?? "",
    port: c?.port === null || c?.port === undefined ? "" : String(c.port),
    schema: c?.schema ?? "",
    extra: prettyJson(c?.extra ?? null) ?? c?.extra ?? "",
  };
}

function ConnectionForm({ connection, onClose }: { connection: Connection | null; onClose: () => void }) {
  const initial = fieldsOf(connection);
  const [f, setF] = useState(initial);
  const [password, setPassword] = useState("");
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const extraError =
    f.extra.trim() !== "" && prettyJson(f.extra) === null
      ? 'Extra must be a JSON object, e.g. {"timeout": 30}.'
      : f.extra !== initial.extra && f.extra.includes('"***"')
        ? 'Replace each "***" (a hidden secret) with its real value, or leave extra unchanged.'
        : null;
  const portError = f.port !== "" && !/^\d{1,5}$/.test(f.port) ? "A port is a number from 0 to 65535." : null;
  const save = useSave(
    KEY,
    async () => {
      const orNull = (s: string) => (s.trim() === "" ? null : s);
      const all = {
        connection_id: f.connection_id,
        conn_type: f.conn_type,
        description: orNull(f.description),
        host: orNull(f.host),
        login: orNull(f.login),
        port: f.port === "" ? null : Number(f.port),
        schema: orNull(f.schema),
        extra: orNull(f.extra),
      };
      if (connection === null)
        return unwrap(
          api.POST("/api/v1/connections", { body: { ...all, ...(password === "" ? {} : { password }) } }),
        );
      // Only what changed: unchanged extra keeps its hidden secrets, an empty password field
      // keeps the password.
      const changed = Object.fromEntries(
        (Object.keys(all) as (keyof Fields)[]).filter((k) => f[k] !== initial[k]).map((k) => [k, all[k]]),
      );
      return unwrap(
        api.PATCH("/api/v1/connections/{connection_id}", {
          params: { path: { connection_id: connection.connection_id } },
          body: { ...changed, ...(password === "" ? {} : { password }) },
        }),
      );
    },
    onClose,
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (extraError === null && portError === null) save.mutate();
  };
  const text = (k: keyof Fields, label: string, props: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`conn-${k}`}>{label}</label>
      <input id={`conn-${k}`} name={k} value={f[k]} onChange={set(k)} {...props} />
    </div>
  );
  return (
    <Modal
      title={connection === null ? "Add connection" : `Edit connection ${connection.connection_id}`}
      onClose={onClose}
    >
      <form className="form" onSubmit={submit} autoComplete="off">
        <div className="form-row">
          {text("connection_id", "Connection id", {
            required: true,
            maxLength: 250,
            readOnly: connection !== null,
          })}
          <div className="field">
            <label htmlFor="conn-conn_type">Type</label>
            <input
              id="conn-conn_type"
              name="conn_type"
              list="conn-types"
              required
              value={f.conn_type}
              onChange={set("conn_type")}
            />
            <datalist id="conn-types">
              {TYPES.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </div>
        </div>
        {text("description", "Description")}
        <div className="form-row">
          {text("host", "Host")}
          <div className="field narrow">
            <label htmlFor="conn-port">Port</label>
            <input
              id="conn-port"
              name="port"
              inputMode="numeric"
              value={f.port}
              onChange={set("port")}
              aria-invalid={portError !== null}
            />
          </div>
        </div>
        {portError && <p className="error small">{portError}</p>}
        <div className="form-row">
          {text("login", "Login")}
          <div className="field">
            <label htmlFor="conn-password">Password</label>
            <input
              id="conn-password"
              name="password"
              type="password"
              autoComplete="new-password"
              value={password}
              placeholder={connection === null ? "" : "unchanged (never shown)"}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
        </div>
        {text("schema", "Schema")}
        <div className="field">
          <label htmlFor="conn-extra">Extra (JSON)</label>
          <textarea
            id="conn-extra"
            name="extra"
            rows={5}
            value={f.extra}
            onChange={set("extra")}
            aria-invalid={extraError !== null}
          />
          {extraError ? (
            <p className="error small">{extraError}</p>
          ) : (
            <p className="muted small">
              Values of secret keys (password, token, …) show as *** and are kept unless replaced.
            </p>
          )}
        </div>
        <FormFooter
          error={save.error}
          pending={save.isPending}
          disabled={f.connection_id === "" || f.conn_type === ""}
          onCancel={onClose}
        />
      </form>
    </Modal>
  );
}
