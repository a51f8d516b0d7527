// Roles (Admin only), read-only: the four built-in roles with their permissions, grouped by
// resource. Custom roles are refused by the API (decision 0014), so there is nothing to edit.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../lib/api";

export function RolesSection() {
  const roles = useQuery({
    queryKey: ["admin", "roles"],
    queryFn: () => unwrap(api.GET("/api/v1/roles", { params: { query: { limit: 100 } } })),
  });
  return (
    <section aria-label="Roles">
      <p className="muted">
        The built-in roles, each holding the one below it (Admin ⊃ Op ⊃ User ⊃ Viewer), as Airflow&apos;s.
        Custom roles are not supported: give a user one of these in Users.
      </p>
      {roles.isError && <p className="error">{roles.error.message}</p>}
      <table className="table roles">
        <thead>
          <tr>
            <th>Role</th>
            <th>Permissions (resource: actions)</th>
          </tr>
        </thead>
        <tbody>
          {(roles.data?.roles ?? []).map((r) => {
            const byResource = new Map<string, string[]>();
            for (const a of r.actions)
              byResource.set(a.resource.name, [...(byResource.get(a.resource.name) ?? []), a.action.name]);
            return (
              <tr key={r.name} data-role={r.name}>
                <td>
                  <strong>{r.name}</strong>
                  <div className="muted small">{r.actions.length} permissions</div>
                </td>
                <td>
                  <div className="perm-list">
                    {[...byResource].sort().map(([resource, actions]) => (
                      <span key={resource} className="tag">
                        {resource}: {actions.sort().join(", ")}
                      </span>
                    ))}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
