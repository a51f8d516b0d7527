// The Admin sections and who may read each: the navigation bar (in the main bundle) asks this
// without loading the Admin pages themselves.
import { useCan } from "../../lib/auth";

export const ADMIN_SECTIONS = [
  { id: "variables", label: "Variables", permission: "variables:read" },
  { id: "connections", label: "Connections", permission: "connections:read" },
  { id: "pools", label: "Pools", permission: "pools:read" },
  { id: "users", label: "Users", permission: "users:read" },
  { id: "roles", label: "Roles", permission: "roles:read" },
  { id: "tokens", label: "API tokens", permission: "my_profile:read" },
] as const;

/** The Admin sections a role may read (the navigation bar hides Admin when there is none). */
export function useAdminSections() {
  const can = {
    variables: useCan("variables:read"),
    connections: useCan("connections:read"),
    pools: useCan("pools:read"),
    users: useCan("users:read"),
    roles: useCan("roles:read"),
    tokens: useCan("my_profile:read"),
  };
  return ADMIN_SECTIONS.filter((s) => can[s.id]);
}
