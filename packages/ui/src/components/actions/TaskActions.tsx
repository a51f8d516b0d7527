// Clear and mark one task instance, each behind a dialog that first shows what the API's dry run
// says would change. Hidden when the role may not edit task instances (the API refuses anyway).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { Affected } from "./Affected";
import { ConfirmDialog, Options } from "./ConfirmDialog";

export interface TiRef {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  /** The run's logical date, which "past" and "future" count from (null: they are unavailable). */
  logicalDate: string | null;
}

type Open = null | "clear" | "success" | "failed";

export function TaskActions({ ti }: { ti: TiRef }) {
  const can = useCan("task_instances:edit");
  const [open, setOpen] = useState<Open>(null);
  if (!can) return null;
  return (
    <div className="action-bar" role="group" aria-label="Task instance actions">
      <button type="button" onClick={() => setOpen("clear")}>
        Clear…
      </button>
      <button type="button" onClick={() => setOpen("success")}>
        Mark success…
      </button>
      <button type="button" className="danger" onClick={() => setOpen("failed")}>
        Mark failed…
      </button>
      {open === "clear" && <ClearTaskDialog ti={ti} onClose={() => setOpen(null)} />}
      {(open === "success" || open === "failed") && (
        <MarkTaskDialog ti={ti} state={open} onClose={() => setOpen(null)} />
      )}
    </div>
  );
}

/** After a change: everything cached about the DAG (grid, panels, this page) is fetched again. */
export function useRefreshDag(dagId: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: ["dag", dagId] });
}

type Relatives = "downstream" | "upstream" | "past" | "future";
type ClearOption = Relatives | "onlyFailed";

/** The clear's scope in the API's terms: one run, or runs before and/or after it by logical date. */
function scope(ti: TiRef, o: Record<Relatives, boolean>) {
  if (ti.logicalDate === null || (!o.past && !o.future)) return { dag_run_id: ti.runId };
  return {
    ...(o.past ? {} : { start_date: ti.logicalDate }),
    ...(o.future ? {} : { end_date: ti.logicalDate }),
  };
}

export function ClearTaskDialog({ ti, onClose }: { ti: TiRef; onClose: () => void }) {
  const refresh = useRefreshDag(ti.dagId);
  const [o, setO] = useState<Record<ClearOption, boolean>>({
    downstream: true,
    upstream: false,
    onlyFailed: false,
    past: false,
    future: false,
  });
  const body = {
    task_ids: [ti.taskId],
    ...scope(ti, o),
    include_downstream: o.downstream,
    include_upstream: o.upstream,
    only_failed: o.onlyFailed,
  };
  const clear = (dryRun: boolean) =>
    unwrap(
      api.POST("/api/v1/dags/{dag_id}/clearTaskInstances", {
        params: { path: { dag_id: ti.dagId } },
        body: { ...body, dry_run: dryRun },
      }),
    );
  const preview = useQuery({
    queryKey: ["action-preview", "clear", ti, body],
    queryFn: () => clear(true),
    gcTime: 0,
  });
  const run = useMutation({
    mutationFn: () => clear(false),
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  const noDate = ti.logicalDate === null;
  return (
    <ConfirmDialog
      title={`Clear ${ti.taskId}`}
      confirmLabel="Clear"
      onConfirm={() => run.mutate()}
      onClose={onClose}
      busy={run.isPending}
      disabled={!preview.data || preview.data.task_instances.length === 0}
      error={run.error?.message}
    >
      <p className="small muted">
        Clearing sets the task instances back to no state: the scheduler runs them again (a new try, with a
        new log).
      </p>
      <Options
        options={[
          { key: "downstream", label: "Downstream", hint: "and every task after it" },
          { key: "upstream", label: "Upstream", hint: "and every task before it" },
          { key: "onlyFailed", label: "Only failed", hint: "only instances that failed or upstream failed" },
          { key: "past", label: "Past", hint: "also in earlier runs", disabled: noDate },
          { key: "future", label: "Future", hint: "also in later runs", disabled: noDate },
        ]}
        values={o}
        onChange={setO}
      />
      <Affected
        what="to clear"
        items={preview.data?.task_instances}
        pending={preview.isPending}
        error={preview.error?.message ?? null}
      />
    </ConfirmDialog>
  );
}

export function MarkTaskDialog({
  ti,
  state,
  onClose,
}: {
  ti: TiRef;
  state: "success" | "failed";
  onClose: () => void;
}) {
  const refresh = useRefreshDag(ti.dagId);
  const [o, setO] = useState<Record<Relatives, boolean>>({
    downstream: false,
    upstream: false,
    past: false,
    future: false,
  });
  const body = {
    task_id: ti.taskId,
    dag_run_id: ti.runId,
    new_state: state,
    include_downstream: o.downstream,
    include_upstream: o.upstream,
    include_past: o.past,
    include_future: o.future,
    ...(ti.mapIndex >= 0 ? { map_indexes: [ti.mapIndex] } : {}),
  };
  const mark = (dryRun: boolean) =>
    unwrap(
      api.POST("/api/v1/dags/{dag_id}/updateTaskInstancesState", {
        params: { path: { dag_id: ti.dagId } },
        body: { ...body, dry_run: dryRun },
      }),
    );
  const preview = useQuery({
    queryKey: ["action-preview", "mark", ti, body],
    queryFn: () => mark(true),
    gcTime: 0,
  });
  const run = useMutation({
    mutationFn: () => mark(false),
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={`Mark ${ti.taskId} ${state}`}
      confirmLabel={`Mark ${state}`}
      danger={state === "failed"}
      onConfirm={() => run.mutate()}
      onClose={onClose}
      busy={run.isPending}
      disabled={!preview.data || preview.data.task_instances.length === 0}
      error={run.error?.message}
    >
      <p className="small muted">
        {state === "failed"
          ? "A running instance is stopped at its next heartbeat; downstream tasks then follow their trigger rules."
          : "The instances count as succeeded: downstream tasks may start."}
      </p>
      <Options
        options={[
          { key: "downstream", label: "Downstream" },
          { key: "upstream", label: "Upstream" },
          { key: "past", label: "Past", disabled: ti.logicalDate === null },
          { key: "future", label: "Future", disabled: ti.logicalDate === null },
        ]}
        values={o}
        onChange={setO}
      />
      <Affected
        what={`to mark ${state}`}
        items={preview.data?.task_instances}
        pending={preview.isPending}
        error={preview.error?.message ?? null}
      />
    </ConfirmDialog>
  );
}
