// Users (Admin only): each user with their roles, active or not, and last login; create a user
// with a role, change a user's role, deactivate or reactivate, delete. The API keeps the last
// active Admin from being removed, disabled or demoted, and says so; that message shows here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { components } from "updraft/client";
import { onRowKeys } from "../../components/table/row-keys";
import { api, unwrap } from "../../lib/api";
import { useCan, useMe } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { useAdminCollection, useSave } from "./admin-collection";
import { FormFooter } from "./FormFooter";
import { ConfirmDelete, Modal } from "./Modal";
import { RowActions } from "./RowActions";

type User = components["schemas"]["User"];
const KEY = ["admin", "users"] as const;
export const ROLES = ["Admin", "Op", "User", "Viewer"] as const;

export function UsersSection() {
  const canCreate = useCan("users:create");
  const canEdit = useCan("users:edit");
  const canDelete = useCan("users:delete");
  const me = useMe();
  const [creating, setCreating] = useState(false);
  const client = useQueryClient();
  const { all, deleting, setDeleting, confirm } = useAdminCollection<User>({
    key: KEY,
    page: async (o, limit) => {
      const r = await unwrap(api.GET("/api/v1/users", { params: { query: { offset: o, limit } } }));
      return { items: r.users, total: r.total_entries };
    },
    remove: (u) =>
      unwrap(api.DELETE("/api/v1/users/{username}", { params: { path: { username: u.username } } })),
  });
  const patch = useMutation({
    mutationFn: (v: { username: string; mask: "roles" | "active"; roles?: string[]; active?: boolean }) =>
      unwrap(
        api.PATCH("/api/v1/users/{username}", {
          params: { path: { username: v.username }, query: { update_mask: v.mask } },
          body:
            v.mask === "roles"
              ? { roles: (v.roles ?? []).map((name) => ({ name })) }
              : { active: v.active ?? true },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: KEY }),
  });
  return (
    <section aria-label="Users">
      <div className="toolbar">
        <span className="muted">{all.data ? `${all.data.length} users` : ""}</span>
        <div className="spacer" />
        {canCreate && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            + Add user
          </button>
        )}
      </div>
      {all.isError && <p className="error">{all.error.message}</p>}
      {patch.isError && (
        <p className="error" role="alert">
          {patch.error.message}
        </p>
      )}
      <div className="table-wrap">
        <table className="table users">
          <thead>
            <tr>
              <th>Username</th>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Last login</th>
              {(canEdit || canDelete) && <th className="narrow">Actions</th>}
            </tr>
          </thead>
          <tbody onKeyDown={onRowKeys}>
            {(all.data ?? []).map((u) => {
              const self = u.username === me.data?.username;
              const role = u.roles[0]?.name ?? "";
              return (
                <tr key={u.username} data-row="" data-user={u.username} tabIndex={0}>
                  <td className="mono">
                    {u.username}
                    {self && <span className="muted small"> (you)</span>}
                  </td>
                  <td>{`${u.first_name} ${u.last_name}`.trim()}</td>
                  <td>{u.email}</td>
                  <td>
                    {canEdit ? (
                      <select
                        aria-label={`Role of ${u.username}`}
                        value={u.roles.length === 1 ? role : ""}
                        disabled={patch.isPending}
                        onChange={(e) =>
                          patch.mutate({ username: u.username, mask: "roles", roles: [e.target.value] })
                        }
                      >
                        {u.roles.length !== 1 && (
                          <option value="">{u.roles.map((r) => r.name).join(", ") || "no role"}</option>
                        )}
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      u.roles.map((r) => r.name).join(", ")
                    )}
                  </td>
                  <td>{u.active ? "active" : <span className="muted">deactivated</span>}</td>
                  <td title={u.last_login ?? ""}>{formatDate(u.last_login)}</td>
                  {(canEdit || canDelete) && (
                    <RowActions name={u.username} onDelete={canDelete && !self && (() => setDeleting(u))}>
                      {canEdit && !self && (
                        <button
                          type="button"
                          disabled={patch.isPending}
                          onClick={() =>
                            patch.mutate({ username: u.username, mask: "active", active: !u.active })
                          }
                          aria-label={`${u.active ? "Deactivate" : "Activate"} ${u.username}`}
                        >
                          {u.active ? "Deactivate" : "Activate"}
                        </button>
                      )}
                    </RowActions>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {creating && <UserForm onClose={() => setCreating(false)} />}
      {deleting !== null && (
        <ConfirmDelete
          what={`user ${deleting.username}`}
          detail="Their sessions and API tokens end with them. Deactivating keeps the record instead."
          {...confirm(deleting)}
        />
      )}
    </section>
  );
}

function UserForm({ onClose }: { onClose: () => void }) {
  const [f, setF] = useState({
    username: "",
    email: "",
    first_name: "",
    last_name: "",
    password: "",
    role: "Viewer",
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  const save = useSave(
    KEY,
    () =>
      unwrap(
        api.POST("/api/v1/users", {
          body: {
            username: f.username,
            email: f.email,
            password: f.password,
            ...(f.first_name === "" ? {} : { first_name: f.first_name }),
            ...(f.last_name === "" ? {} : { last_name: f.last_name }),
            roles: [{ name: f.role }],
          },
        }),
      ),
    onClose,
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Modal title="Add user" onClose={onClose}>
      <form className="form" onSubmit={submit} autoComplete="off">
        <div className="form-row">
          <div className="field">
            <label htmlFor="user-username">Username</label>
            <input
              id="user-username"
              name="username"
              required
              value={f.username}
              onChange={set("username")}
            />
          </div>
          <div className="field">
            <label htmlFor="user-role">Role</label>
            <select id="user-role" name="role" value={f.role} onChange={set("role")}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor="user-email">Email</label>
          <input id="user-email" name="email" type="email" required value={f.email} onChange={set("email")} />
        </div>
        <div className="form-row">
          <div className="field">
            <label htmlFor="user-first">First name</label>
            <input id="user-first" name="first_name" value={f.first_name} onChange={set("first_name")} />
          </div>
          <div className="field">
            <label htmlFor="user-last">Last name</label>
            <input id="user-last" name="last_name" value={f.last_name} onChange={set("last_name")} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="user-password">Password</label>
          <input
            id="user-password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={f.password}
            onChange={set("password")}
          />
        </div>
        <FormFooter
          error={save.error}
          pending={save.isPending}
          submitLabel="Create user"
          onCancel={onClose}
        />
      </form>
    </Modal>
  );
}
