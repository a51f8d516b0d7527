// The Grid's data: the DAG's tasks in dependency order, and its runs fetched a page at a time
// (GET /api/v1/ui/grid/{dag_id}, 50 runs a page, newest first) as the user scrolls, so that a DAG
// with 10,000 runs loads only what is on screen. Pages with an unfinished run are polled.
import { useQueries, useQuery } from "@tanstack/react-query";
import type { components } from "updraft/client";
import { api, unwrap } from "../../lib/api";

export type GridData = components["schemas"]["GridData"];
export type GridRun = GridData["dag_runs"][number];
export type GridCell = GridData["task_instances"][number];
export type GridGroupCell = GridData["group_cells"][number];

// 50 runs × 100 tasks a page: a page's arrival (its JSON parsed, its cells indexed) happens while
// the user scrolls, and with 100 runs it was the longest frame of a fast scroll (bench: ui).
export const RUNS_PER_PAGE = 50;
const LIVE_MS = 3_000;
const PREFETCH_ROWS = 40;
const PAGE_GC_MS = 4_000;
const IDLE_MS = 15_000;

interface TaskLike {
  task_id?: unknown;
  upstream_task_ids?: unknown;
}

/** Task ids upstream before downstream (ties in definition order): how the Grid lists them. */
export function taskOrder(tasks: readonly Record<string, unknown>[]): string[] {
  const ids = tasks.map((t) => String((t as TaskLike).task_id));
  const upstream = new Map<string, string[]>();
  for (const t of tasks as readonly TaskLike[]) {
    const ups = Array.isArray(t.upstream_task_ids) ? t.upstream_task_ids.map(String) : [];
    upstream.set(String(t.task_id), ups);
  }
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (id: string, path: Set<string>) => {
    if (done.has(id) || path.has(id)) return;
    path.add(id);
    for (const u of upstream.get(id) ?? []) if (upstream.has(u)) visit(u, path);
    done.add(id);
    out.push(id);
  };
  for (const id of ids) visit(id, new Set());
  return out;
}

const unfinished = (runs: readonly GridRun[]) =>
  runs.some((r) => r.state === "running" || r.state === "queued");

// The signal lets a page whose rows left the screen before it arrived be dropped unread.
function fetchPage(dagId: string, page: number, signal?: AbortSignal) {
  return unwrap(
    api.GET("/api/v1/ui/grid/{dag_id}", {
      params: { path: { dag_id: dagId }, query: { limit: RUNS_PER_PAGE, offset: page * RUNS_PER_PAGE } },
      ...(signal === undefined ? {} : { signal }),
    }),
  );
}

// Each page's cells by run and task (and by run and group), built once per fetched page (not on
// every render: a page of 100 runs × 100 tasks is 10,000 cells, and the Grid re-renders on every
// scroll frame).
// Nested by run then task: a lookup builds no key string (the Grid looks up ~1,000 cells a frame).
const indexes = new WeakMap<GridData, Map<string, Map<string, GridCell>>>();
function cellIndex(data: GridData): Map<string, Map<string, GridCell>> {
  let index = indexes.get(data);
  if (index === undefined) {
    index = new Map();
    for (const c of data.task_instances) {
      let byTask = index.get(c.dag_run_id);
      if (byTask === undefined) index.set(c.dag_run_id, (byTask = new Map()));
      byTask.set(c.task_id, c);
    }
    indexes.set(data, index);
  }
  return index;
}
const groupIndexes = new WeakMap<GridData, Map<string, GridGroupCell>>();
function groupIndex(data: GridData): Map<string, GridGroupCell> {
  let index = groupIndexes.get(data);
  if (index === undefined) {
    index = new Map(data.group_cells.map((c) => [`${c.dag_run_id}\u0000${c.group_id}`, c]));
    groupIndexes.set(data, index);
  }
  return index;
}

/** A run's cell for a task, from the page that holds the run. */
export function cellOf(data: GridData, runId: string, taskId: string): GridCell | undefined {
  return cellIndex(data).get(runId)?.get(taskId);
}

/** A run's summary cell for a task group, from the page that holds the run. */
export function groupCellOf(data: GridData, runId: string, groupId: string): GridGroupCell | undefined {
  return groupIndex(data).get(`${runId}\u0000${groupId}`);
}

export interface GridPages {
  total: number | null;
  error: Error | null;
  run(index: number): GridRun | undefined;
  /** The fetched page that holds row `index`, if any. */
  page(index: number): GridData | undefined;
}

/** The newest runs: always fetched (and polled, for new runs), it also tells how many there are. */
export function useGridFirstPage(dagId: string) {
  return useQuery({
    queryKey: ["dag", dagId, "grid", 0],
    queryFn: () => fetchPage(dagId, 0),
    refetchInterval: (q) => (q.state.data && unfinished(q.state.data.dag_runs) ? LIVE_MS : IDLE_MS),
  });
}

/**
 * The runs of the pages that cover the `visible` row indexes. While `flying` (grid-flying.ts), pages
 * not fetched yet wait: their rows stay veiled until the screen slows down.
 */
export function useGridPages(
  dagId: string,
  first: ReturnType<typeof useGridFirstPage>,
  visible: readonly number[],
  flying: boolean,
): GridPages {
  // The pages on screen, and the next one above or below when the screen is within a few dozen
  // rows of it, so that scrolling on rarely meets rows still loading.
  const first0 = Math.min(...visible);
  const last0 = Math.max(...visible);
  const near = visible.length === 0 ? [] : [first0 - PREFETCH_ROWS, last0 + PREFETCH_ROWS];
  const wanted = [...new Set([...visible, ...near].map((i) => Math.floor(i / RUNS_PER_PAGE)))].filter(
    (p) => p > 0 && (first.data === undefined || p * RUNS_PER_PAGE < first.data.total_entries),
  );
  const others = useQueries({
    queries: wanted.map((page) => ({
      queryKey: ["dag", dagId, "grid", page],
      queryFn: ({ signal }: { signal: AbortSignal }) => fetchPage(dagId, page, signal),
      enabled: !flying,
      // Pages scrolled past leave the cache soon: 10,000 runs are a million cells, and a heap that
      // holds them all makes the browser's garbage collections long enough to drop frames.
      gcTime: PAGE_GC_MS,
      refetchInterval: (q: { state: { data: GridData | undefined } }) =>
        q.state.data && unfinished(q.state.data.dag_runs) ? LIVE_MS : false,
    })),
  });
  const pages = new Map<number, GridData>();
  if (first.data) pages.set(0, first.data);
  wanted.forEach((page, i) => {
    const data = others[i]?.data;
    if (data) pages.set(page, data);
  });
  return {
    total: first.data?.total_entries ?? null,
    error: first.error ?? others.find((o) => o.error)?.error ?? null,
    run: (index) => pages.get(Math.floor(index / RUNS_PER_PAGE))?.dag_runs[index % RUNS_PER_PAGE],
    page: (index) => pages.get(Math.floor(index / RUNS_PER_PAGE)),
  };
}
