// The task instance page's data: the instance (unmapped or one map index), its tries, its
// dependencies, its XComs. Keys start with ["dag", dag_id] so that an action's refresh reaches them.
import { useQuery } from "@tanstack/react-query";
import type { components } from "updraft/client";
import { api, unwrap } from "../../lib/api";

export type TaskInstance = components["schemas"]["TaskInstance"];

/** States in which the instance changes by itself: the page polls while it is in one. */
export const LIVE = new Set([
  "running",
  "queued",
  "scheduled",
  "up_for_retry",
  "up_for_reschedule",
  "restarting",
  "deferred",
]);
export const FINISHED = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);
const POLL_MS = 3_000;

export interface TiKey {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

const base = (k: TiKey) => ({ dag_id: k.dagId, dag_run_id: k.runId, task_id: k.taskId });
const keyOf = (k: TiKey, what: string) => ["dag", k.dagId, "ti-page", k.runId, k.taskId, k.mapIndex, what];

export function useTaskInstance(k: TiKey) {
  return useQuery({
    queryKey: keyOf(k, "ti"),
    queryFn: () =>
      k.mapIndex >= 0
        ? unwrap(
            api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}", {
              params: { path: { ...base(k), map_index: k.mapIndex } },
            }),
          )
        : unwrap(
            api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", {
              params: { path: base(k) },
            }),
          ),
    refetchInterval: (q) =>
      LIVE.has(q.state.data?.state ?? "") || q.state.data?.state === null ? POLL_MS : false,
  });
}

export function useTries(k: TiKey, live: boolean) {
  return useQuery({
    queryKey: keyOf(k, "tries"),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/tries", {
          params: { path: base(k), query: { map_index: k.mapIndex } },
        }),
      ),
    refetchInterval: live ? POLL_MS : false,
  });
}

export function useDependencies(k: TiKey, enabled: boolean) {
  return useQuery({
    queryKey: keyOf(k, "dependencies"),
    enabled,
    queryFn: () =>
      k.mapIndex >= 0
        ? unwrap(
            api.GET(
              "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/{map_index}/dependencies",
              {
                params: { path: { ...base(k), map_index: k.mapIndex } },
              },
            ),
          )
        : unwrap(
            api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/dependencies", {
              params: { path: base(k) },
            }),
          ),
    refetchInterval: enabled ? POLL_MS : false,
  });
}

export function useXComs(k: TiKey, live: boolean) {
  return useQuery({
    queryKey: keyOf(k, "xcoms"),
    queryFn: async () => {
      const list = await unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries", {
          params: { path: base(k), query: { map_index: k.mapIndex, limit: 100 } },
        }),
      );
      // Each value as JSON (stringify=false), fetched side by side: a task pushes a handful.
      const values = await Promise.all(
        list.xcom_entries.map((x) =>
          unwrap(
            api.GET(
              "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/xcomEntries/{xcom_key}",
              {
                params: {
                  path: { ...base(k), xcom_key: x.key },
                  query: { map_index: x.map_index, stringify: "false" },
                },
              },
            ),
          ),
        ),
      );
      return { entries: values, total: list.total_entries };
    },
    refetchInterval: live ? POLL_MS : false,
  });
}

/** A try's reschedules (a sensor in mode "reschedule"); polled while the instance is live. */
export function useReschedules(k: TiKey, tryNumber: number, live: boolean) {
  return useQuery({
    queryKey: keyOf(k, `reschedules-${tryNumber}`),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/reschedules", {
          params: { path: base(k), query: { map_index: k.mapIndex, try_number: tryNumber } },
        }),
      ),
    refetchInterval: live ? POLL_MS : false,
  });
}
