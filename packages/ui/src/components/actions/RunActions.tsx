// Clear a run, mark it success or failed, delete it: each behind a dialog that shows what it
// touches first (the API's dry run for a clear; the run's task instances that a mark changes, by
// the rules of services/set-dag-run-state.ts). Hidden when the role may not (the API refuses anyway).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { Affected } from "./Affected";
import { ConfirmDialog, Options } from "./ConfirmDialog";
import { useRefreshDag } from "./TaskActions";

type Open = null | "clear" | "success" | "failed" | "delete";

const FINISHED = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);

export function RunActions({
  dagId,
  runId,
  onDeleted,
}: {
  dagId: string;
  runId: string;
  /** Where to go once the run is gone (the page showing it cannot stay). */
  onDeleted: () => void;
}) {
  const canEdit = useCan("dag_runs:edit");
  const canDelete = useCan("dag_runs:delete");
  const [open, setOpen] = useState<Open>(null);
  if (!canEdit && !canDelete) return null;
  const close = () => setOpen(null);
  return (
    <div className="action-bar" role="group" aria-label="Run actions">
      {canEdit && (
        <>
          <button type="button" onClick={() => setOpen("clear")}>
            Clear run…
          </button>
          <button type="button" onClick={() => setOpen("success")}>
            Mark run success…
          </button>
          <button type="button" onClick={() => setOpen("failed")}>
            Mark run failed…
          </button>
        </>
      )}
      {canDelete && (
        <button type="button" className="danger" onClick={() => setOpen("delete")}>
          Delete run…
        </button>
      )}
      {open === "clear" && <ClearRunDialog dagId={dagId} runId={runId} onClose={close} />}
      {(open === "success" || open === "failed") && (
        <MarkRunDialog dagId={dagId} runId={runId} state={open} onClose={close} />
      )}
      {open === "delete" && (
        <DeleteRunDialog
          dagId={dagId}
          runId={runId}
          onClose={close}
          onDeleted={() => {
            close();
            onDeleted();
          }}
        />
      )}
    </div>
  );
}

export function ClearRunDialog({
  dagId,
  runId,
  onClose,
}: {
  dagId: string;
  runId: string;
  onClose: () => void;
}) {
  const refresh = useRefreshDag(dagId);
  const [o, setO] = useState({ onlyFailed: false });
  // The run's own clear for all of it; the task-instance clear for its failed ones.
  const clear = (dryRun: boolean) =>
    o.onlyFailed
      ? unwrap(
          api.POST("/api/v1/dags/{dag_id}/clearTaskInstances", {
            params: { path: { dag_id: dagId } },
            body: { dag_run_id: runId, only_failed: true, dry_run: dryRun },
          }),
        )
      : unwrap(
          api.POST("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/clear", {
            params: { path: { dag_id: dagId, dag_run_id: runId } },
            body: { dry_run: dryRun },
          }),
        );
  const preview = useQuery({
    queryKey: ["action-preview", "clear-run", dagId, runId, o.onlyFailed],
    queryFn: async () => {
      const r = await clear(true);
      return "task_instances" in r ? r.task_instances : [];
    },
    gcTime: 0,
  });
  const run = useMutation({
    mutationFn: () => clear(false),
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={`Clear run ${runId}`}
      confirmLabel="Clear run"
      onConfirm={() => run.mutate()}
      onClose={onClose}
      busy={run.isPending}
      disabled={!preview.data || preview.data.length === 0}
      error={run.error?.message}
    >
      <p className="small muted">The run goes back to queued and the cleared task instances run again.</p>
      <Options options={[{ key: "onlyFailed", label: "Only failed" }]} values={o} onChange={setO} />
      <Affected
        what="to clear"
        items={preview.data}
        pending={preview.isPending}
        error={preview.error?.message ?? null}
      />
    </ConfirmDialog>
  );
}

function useRunTis(dagId: string, runId: string) {
  return useQuery({
    queryKey: ["dag", dagId, "run-tis", runId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", {
          params: { path: { dag_id: dagId, dag_run_id: runId }, query: { limit: 1000 } },
        }),
      ),
  });
}

export function MarkRunDialog({
  dagId,
  runId,
  state,
  onClose,
}: {
  dagId: string;
  runId: string;
  state: "success" | "failed";
  onClose: () => void;
}) {
  const refresh = useRefreshDag(dagId);
  const tis = useRunTis(dagId, runId);
  // What the service changes: every instance not yet succeeded (success); the unfinished ones (failed).
  const changed = tis.data?.task_instances.filter((t) =>
    state === "success" ? t.state !== "success" : !FINISHED.has(t.state ?? ""),
  );
  const run = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", {
          params: { path: { dag_id: dagId, dag_run_id: runId } },
          body: { state },
        }),
      ),
    onSuccess: async () => {
      await refresh();
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={`Mark run ${runId} ${state}`}
      confirmLabel={`Mark run ${state}`}
      danger={state === "failed"}
      onConfirm={() => run.mutate()}
      onClose={onClose}
      busy={run.isPending}
      error={run.error?.message}
    >
      <p className="small muted">
        {state === "success"
          ? "The run and every task instance not yet succeeded are marked success."
          : "The run is marked failed: running and queued task instances fail, those not started are skipped."}
      </p>
      <Affected
        what={state === "success" ? "to mark success" : "to fail or skip"}
        items={changed}
        pending={tis.isPending}
        error={tis.error?.message ?? null}
      />
    </ConfirmDialog>
  );
}

export function DeleteRunDialog({
  dagId,
  runId,
  onClose,
  onDeleted,
}: {
  dagId: string;
  runId: string;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const refresh = useRefreshDag(dagId);
  const tis = useRunTis(dagId, runId);
  const run = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", {
          params: { path: { dag_id: dagId, dag_run_id: runId } },
        }),
      ),
    onSuccess: async () => {
      onDeleted();
      await refresh();
    },
  });
  const n = tis.data?.total_entries;
  return (
    <ConfirmDialog
      title={`Delete run ${runId}`}
      confirmLabel="Delete run"
      danger
      onConfirm={() => run.mutate()}
      onClose={onClose}
      busy={run.isPending}
      error={run.error?.message}
    >
      <p>
        The run <strong className="mono">{runId}</strong> is deleted with its {n === undefined ? "" : `${n} `}
        task instances, their tries and XComs. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
