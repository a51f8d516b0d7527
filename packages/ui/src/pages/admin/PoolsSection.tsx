// Pools: each pool's slots and their use (running, queued, scheduled, deferred, open) as numbers
// and as a bar; create, edit slots and description, delete. default_pool cannot be deleted (the
// API refuses it too).
import { useState, type FormEvent } from "react";
import type { components } from "updraft/client";
import { onRowKeys } from "../../components/table/row-keys";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { Link } from "../../lib/router";
import { useAdminCollection, useSave } from "./admin-collection";
import { FormFooter } from "./FormFooter";
import { ConfirmDelete, Modal } from "./Modal";
import { RowActions } from "./RowActions";

type Pool = components["schemas"]["Pool"];
const KEY = ["admin", "pools"] as const;
const DEFAULT_POOL = "default_pool";
const USES = ["running", "queued", "scheduled", "deferred"] as const;

export function PoolsSection() {
  const canCreate = useCan("pools:create");
  const canEdit = useCan("pools:edit");
  const canDelete = useCan("pools:delete");
  const [editing, setEditing] = useState<Pool | "new" | null>(null);
  const { all, deleting, setDeleting, confirm } = useAdminCollection<Pool>({
    key: KEY,
    page: async (o, limit) => {
      const r = await unwrap(api.GET("/api/v1/pools", { params: { query: { offset: o, limit } } }));
      return { items: r.pools, total: r.total_entries };
    },
    remove: (p) =>
      unwrap(api.DELETE("/api/v1/pools/{pool_name}", { params: { path: { pool_name: p.name } } })),
    refetchInterval: 5_000,
  });
  return (
    <section aria-label="Pools">
      <div className="toolbar">
        <span className="muted">
          A task takes pool_slots of its pool while it runs; tasks wait in “scheduled” when their pool is
          full.
        </span>
        <div className="spacer" />
        {canCreate && (
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            + Add pool
          </button>
        )}
      </div>
      {all.isError && <p className="error">{all.error.message}</p>}
      <div className="table-wrap">
        <table className="table pools">
          <thead>
            <tr>
              <th>Pool</th>
              <th className="num">Slots</th>
              <th className="usage-col">Usage</th>
              <th className="num">Running</th>
              <th className="num">Queued</th>
              <th className="num">Scheduled</th>
              <th className="num">Deferred</th>
              <th className="num">Open</th>
              {(canEdit || canDelete) && <th className="narrow">Actions</th>}
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {(all.data ?? []).map((p) => (
              <tr key={p.name} data-row="" data-pool={p.name} tabIndex={0}>
                <td>
                  <span className="mono">{p.name}</span>
                  {p.description && <div className="muted small">{p.description}</div>}
                  {p.include_deferred && <div className="muted small">deferred tasks take slots</div>}
                </td>
                <td className="num">{p.slots < 0 ? "∞" : p.slots}</td>
                <td>
                  <UsageBar pool={p} />
                </td>
                {USES.map((u) => (
                  <td key={u} className="num">
                    <PoolCount pool={p.name} state={u} n={p[`${u}_slots`]} />
                  </td>
                ))}
                <td className="num">{p.slots < 0 ? "∞" : p.open_slots}</td>
                {(canEdit || canDelete) && (
                  <RowActions
                    name={p.name}
                    onEdit={canEdit && (() => setEditing(p))}
                    onDelete={canDelete && p.name !== DEFAULT_POOL && (() => setDeleting(p))}
                  />
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing !== null && (
        <PoolForm pool={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
      {deleting !== null && (
        <ConfirmDelete
          what={`pool ${deleting.name}`}
          detail="Tasks assigned to it will wait in “scheduled” until a pool of that name exists again."
          {...confirm(deleting)}
        />
      )}
    </section>
  );
}

/** A count that links to the task instances in that pool and state (Browse). */
function PoolCount({ pool, state, n }: { pool: string; state: string; n: number }) {
  if (n === 0) return <span className="muted">0</span>;
  return (
    <Link
      to={`/browse/tasks?pool=${encodeURIComponent(pool)}&state=${state}`}
      title={`Task instances ${state} in ${pool}`}
    >
      {n}
    </Link>
  );
}

/** The slots in use by state, and the open rest, as one bar (each part labelled, not only coloured). */
function UsageBar({ pool }: { pool: Pool }) {
  const total = pool.slots < 0 ? Math.max(1, pool.occupied_slots) : Math.max(1, pool.slots);
  const label =
    USES.map((u) => `${pool[`${u}_slots`]} ${u}`).join(", ") +
    `, ${pool.slots < 0 ? "unlimited" : pool.open_slots} open`;
  return (
    <div className="usage" role="img" aria-label={label} title={label}>
      {USES.map((u) => {
        const n = pool[`${u}_slots`];
        return n > 0 ? (
          <span
            key={u}
            className={`usage-part state-${u}`}
            style={{ width: `${Math.min(100, (n / total) * 100)}%` }}
          />
        ) : null;
      })}
    </div>
  );
}

function PoolForm({ pool, onClose }: { pool: Pool | null; onClose: () => void }) {
  const [name, setName] = useState(pool?.name ?? "");
  const [slots, setSlots] = useState(String(pool?.slots ?? 1));
  const [description, setDescription] = useState(pool?.description ?? "");
  const [includeDeferred, setIncludeDeferred] = useState(pool?.include_deferred ?? false);
  const slotsError =
    /^-?\d+$/.test(slots) && Number(slots) >= -1 ? null : "Slots is a whole number, or -1 for unlimited.";
  const save = useSave(
    KEY,
    () => {
      const body = {
        slots: Number(slots),
        description: description === "" ? null : description,
        include_deferred: includeDeferred,
      };
      if (pool === null) return unwrap(api.POST("/api/v1/pools", { body: { name, ...body } }));
      return unwrap(
        api.PATCH("/api/v1/pools/{pool_name}", { params: { path: { pool_name: pool.name } }, body }),
      );
    },
    onClose,
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (slotsError === null) save.mutate();
  };
  return (
    <Modal title={pool === null ? "Add pool" : `Edit pool ${pool.name}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="pool-name">Name</label>
          <input
            id="pool-name"
            name="name"
            required
            maxLength={250}
            value={name}
            readOnly={pool !== null}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="pool-slots">Slots</label>
          <input
            id="pool-slots"
            name="slots"
            type="number"
            min={-1}
            step={1}
            required
            value={slots}
            aria-invalid={slotsError !== null}
            onChange={(e) => setSlots(e.target.value)}
          />
          {slotsError && <p className="error small">{slotsError}</p>}
        </div>
        <div className="field">
          <label htmlFor="pool-description">Description</label>
          <input
            id="pool-description"
            name="description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={includeDeferred}
            onChange={(e) => setIncludeDeferred(e.target.checked)}
          />{" "}
          Deferred tasks take slots
        </label>
        <FormFooter error={save.error} pending={save.isPending} disabled={name === ""} onCancel={onClose} />
      </form>
    </Modal>
  );
}
