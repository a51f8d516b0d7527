// The logged-in user's API tokens (Authorization: Bearer <token>): list, create — the token is
// shown once, with a copy button, since only its hash is stored — and revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { components } from "updraft/client";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { FormFooter } from "./FormFooter";
import { Modal } from "./Modal";
import { EmptyRow } from "../../components/table/EmptyRow";

type NewToken = components["schemas"]["NewApiToken"];
const KEY = ["admin", "tokens"] as const;
const LIFETIMES: [string, number | null][] = [
  ["30 days", 30 * 86_400],
  ["7 days", 7 * 86_400],
  ["90 days", 90 * 86_400],
  ["1 year", 365 * 86_400],
  ["never (until revoked)", null],
];

export function TokensSection() {
  const canEdit = useCan("my_profile:edit");
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<number | null>(null);
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: KEY, queryFn: () => unwrap(api.GET("/api/v1/auth/tokens")) });
  const revoke = useMutation({
    mutationFn: (id: number) =>
      unwrap(api.DELETE("/api/v1/auth/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: async () => {
      setRevoking(null);
      await client.invalidateQueries({ queryKey: KEY });
    },
  });
  const now = Date.now();
  const list = [...(tokens.data?.tokens ?? [])].reverse();
  return (
    <section aria-label="API tokens">
      <div className="toolbar">
        <span className="muted">
          Your tokens for scripts and the REST API: <code>Authorization: Bearer &lt;token&gt;</code>. A token
          acts with your role.
        </span>
        <div className="spacer" />
        {canEdit && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            + Create token
          </button>
        )}
      </div>
      {tokens.isError && <p className="error">{tokens.error.message}</p>}
      {revoke.isError && <p className="error">{revoke.error.message}</p>}
      <table className="table tokens">
        <thead>
          <tr>
            <th className="num">Id</th>
            <th>Description</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Status</th>
            {canEdit && <th className="narrow">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.map((t) => {
            const expired = t.expires_at !== null && Date.parse(t.expires_at) <= now;
            const live = t.revoked_at === null && !expired;
            return (
              <tr key={t.id} data-token={t.id}>
                <td className="num">{t.id}</td>
                <td>
                  {t.description ?? <span className="muted">—</span>}
                  {t.description?.startsWith("updraft standalone:") === true && (
                    <div className="muted small">
                      Revoking it stops <code>updraft</code> commands from other terminals until standalone
                      restarts.
                    </div>
                  )}
                </td>
                <td title={t.created_at}>{formatDate(t.created_at)}</td>
                <td title={t.expires_at ?? ""}>
                  {t.expires_at === null ? "never" : formatDate(t.expires_at)}
                </td>
                <td>
                  {t.revoked_at !== null ? (
                    <span className="muted">revoked {formatDate(t.revoked_at)}</span>
                  ) : expired ? (
                    <span className="muted">expired</span>
                  ) : (
                    "active"
                  )}
                </td>
                {canEdit && (
                  <td>
                    {live &&
                      (revoking === t.id ? (
                        <div className="row-actions">
                          <button
                            type="button"
                            className="primary danger"
                            disabled={revoke.isPending}
                            onClick={() => revoke.mutate(t.id)}
                          >
                            Revoke now
                          </button>
                          <button type="button" onClick={() => setRevoking(null)}>
                            Cancel
                          </button>
                        </div>
                      ) : (
                        <button
                          type="button"
                          className="danger"
                          onClick={() => setRevoking(t.id)}
                          aria-label={`Revoke token ${t.id}`}
                        >
                          Revoke
                        </button>
                      ))}
                  </td>
                )}
              </tr>
            );
          })}
          {tokens.data && list.length === 0 && <EmptyRow columns={6}>No API tokens yet.</EmptyRow>}
        </tbody>
      </table>
      {creating && <CreateToken onClose={() => setCreating(false)} />}
    </section>
  );
}

function CreateToken({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const [description, setDescription] = useState("");
  const [lifetime, setLifetime] = useState(0);
  const [copied, setCopied] = useState(false);
  const create = useMutation({
    mutationFn: () => {
      const seconds = LIFETIMES[lifetime]?.[1] ?? null;
      return unwrap(
        api.POST("/api/v1/auth/tokens", {
          body: {
            ...(description === "" ? {} : { description }),
            ...(seconds === null ? {} : { expires_in_seconds: seconds }),
          },
        }),
      );
    },
    onSuccess: () => client.invalidateQueries({ queryKey: KEY }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const made: NewToken | undefined = create.data;
  if (made !== undefined) {
    const copy = async () => {
      await navigator.clipboard.writeText(made.token);
      setCopied(true);
    };
    return (
      <Modal title="Your new API token" onClose={onClose}>
        <div className="form">
          <p>
            Copy it now: it is shown <strong>only once</strong> (Updraft stores only its hash).
          </p>
          <div className="secret-once">
            <input
              readOnly
              aria-label="New API token"
              value={made.token}
              onFocus={(e) => e.target.select()}
            />
            <button type="button" onClick={() => void copy().catch(() => setCopied(false))}>
              {copied ? "Copied ✓" : "Copy"}
            </button>
          </div>
          <p className="muted small">
            Use it as <code>Authorization: Bearer {made.token.slice(0, 12)}…</code>
            {made.expires_at === null
              ? "; it lives until revoked."
              : `; it expires ${formatDate(made.expires_at)}.`}
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      </Modal>
    );
  }
  return (
    <Modal title="Create an API token" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="token-description">What is it for?</label>
          <input
            id="token-description"
            name="description"
            maxLength={250}
            placeholder="e.g. CI deploy job"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="token-lifetime">Expires after</label>
          <select id="token-lifetime" value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))}>
            {LIFETIMES.map(([label], i) => (
              <option key={label} value={i}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <FormFooter
          error={create.error}
          pending={create.isPending}
          submitLabel="Create token"
          onCancel={onClose}
        />
      </form>
    </Modal>
  );
}
