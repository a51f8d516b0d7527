// Who is logged in, and what they may do: GET /api/v1/auth/me's roles and permissions. Controls
// a role cannot use are hidden; the API refuses them anyway (api/auth/permissions.ts).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "./api";

export const ME_KEY = ["auth", "me"] as const;

export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: () => unwrap(api.GET("/api/v1/auth/me")),
    retry: false,
    staleTime: 60_000,
  });
}

/** True when the logged-in user holds `permission` (e.g. "dags:edit"). */
export function useCan(permission: string): boolean {
  const me = useMe();
  return me.data?.permissions.includes(permission) ?? false;
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

export function useLogout() {
  const client = useQueryClient();
  return async () => {
    await api.POST("/api/v1/auth/logout");
    client.clear();
  };
}
