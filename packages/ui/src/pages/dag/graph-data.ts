// The Graph's data: the DAG's structure from its details (tasks with their groups, setup/teardown
// marks and mapping) and the selected run's task states. The newest runs (a page) come from the Grid's
// first page (shared cache, polled while a run is unfinished); a run older than those is read
// from the stable task instances list of that one run.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../lib/api";
import { useGridFirstPage, type GridRun } from "./grid-data";
import { summaryState } from "./graph-model";

/** One task's look in the selected run. */
export interface TaskRunState {
  state: string | null;
  /** Mapped instances in this run (0 for a task that is not mapped). */
  mapCount: number;
  mappedStates: Record<string, number>;
}

const LIVE_MS = 3_000;
const live = (state: string | null | undefined) => state === "running" || state === "queued";

export function useDagDetails(dagId: string) {
  // The same key and call as DagPage's header: one request serves both.
  return useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
}

/** The newest runs (for the picker) and the selected run's task states; `runId` null: the newest. */
export function useRunStates(dagId: string, runId: string | null) {
  const first = useGridFirstPage(dagId);
  const runs: GridRun[] = first.data?.dag_runs ?? [];
  const selected = runId ?? runs[0]?.dag_run_id ?? null;
  const inPage = selected !== null && runs.some((r) => r.dag_run_id === selected);
  const older = useQuery({
    queryKey: ["dag", dagId, "graph-run", selected],
    enabled: first.isSuccess && selected !== null && !inPage,
    queryFn: async () => {
      const path = { dag_id: dagId, dag_run_id: selected ?? "" };
      const [run, tis] = await Promise.all([
        unwrap(api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", { params: { path } })),
        unwrap(
          api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", {
            params: { path, query: { limit: 10_000 } },
          }),
        ),
      ]);
      return { run, tis: tis.task_instances };
    },
    refetchInterval: (q) => (live(q.state.data?.run.state) ? LIVE_MS : false),
  });
  const states = new Map<string, TaskRunState>();
  let runState: string | null = null;
  if (inPage && first.data) {
    runState = runs.find((r) => r.dag_run_id === selected)?.state ?? null;
    for (const c of first.data.task_instances) {
      if (c.dag_run_id !== selected) continue;
      states.set(c.task_id, { state: c.state, mapCount: c.map_count, mappedStates: c.mapped_states });
    }
  } else if (older.data) {
    runState = older.data.run.state;
    const byTask = new Map<string, { single: string | null; counts: Record<string, number>; n: number }>();
    for (const ti of older.data.tis) {
      const e = byTask.get(ti.task_id) ?? { single: null, counts: {}, n: 0 };
      if (ti.map_index < 0) e.single = ti.state ?? null;
      else {
        const k = ti.state ?? "none";
        e.counts[k] = (e.counts[k] ?? 0) + 1;
        e.n += 1;
      }
      byTask.set(ti.task_id, e);
    }
    for (const [task, e] of byTask)
      states.set(
        task,
        e.n > 0
          ? { state: summaryState(e.counts), mapCount: e.n, mappedStates: e.counts }
          : { state: e.single, mapCount: 0, mappedStates: {} },
      );
  }
  return {
    runs,
    selected,
    runState,
    states,
    loading: first.isPending || (!inPage && older.isPending && selected !== null),
    error: first.error ?? older.error ?? null,
  };
}
