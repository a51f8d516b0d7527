// The Admin sections and who may read and manage each: the navigation bar (in the main bundle)
// asks this without loading the Admin pages themselves.
import { useMe } from "../../lib/auth";

export const ADMIN_SECTIONS = [
  { id: "variables", label: "Variables", permission: "variables:read", manage: "variables:edit" },
  { id: "connections", label: "Connections", permission: "connections:read", manage: "connections:edit" },
  { id: "pools", label: "Pools", permission: "pools:read", manage: "pools:edit" },
  { id: "users", label: "Users", permission: "users:read", manage: "users:edit" },
  { id: "roles", label: "Roles", permission: "roles:read", manage: "roles:edit" },
  // One's own tokens: every role, reached from the user name in the navigation bar.
  { id: "tokens", label: "API tokens", permission: "my_profile:read", manage: null },
] as const;

export type AdminSection = (typeof ADMIN_SECTIONS)[number];

/** The Admin sections a role may read. */
export function useAdminSections(): AdminSection[] {
  const permissions = useMe().data?.permissions ?? [];
  return ADMIN_SECTIONS.filter((s) => permissions.includes(s.permission));
}

/**
 * The sections the navigation bar's Admin leads to: those the role may change. As Airflow's
 * Admin menu is Op's and Admin's, a Viewer or User (who may read pools, and their own tokens)
 * has no Admin entry.
 */
export function useAdminMenu(): AdminSection[] {
  const permissions = useMe().data?.permissions ?? [];
  return ADMIN_SECTIONS.filter((s) => s.manage !== null && permissions.includes(s.manage));
}
