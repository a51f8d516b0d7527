// Which tries in flight are lost with their worker, read from the workers' registry (decision 0025
// §4): a try whose worker stopped, stopped heartbeating for worker.stale_after, or has been missing
// from the registry that long (Redis restarted and the worker has not written again) is lost, only
// when seen so at two checks in a row, so that results written just before a clean stop are read
// first. Also: tries an alive worker no longer lists (their result never arrived) free their slot,
// and the alive workers' capacity caps what the executor queues.
import type { Workload } from "../../model/execution-api.js";
import type { WorkerRecord } from "../../queue/index.js";
import { tryKey } from "./protocol.js";

export interface InFlight {
  workload: Workload;
  /** The worker that took it, once known (its "taken" message or the registry). */
  worker: string | null;
  /** Since when (local clock) its job is gone from Redis with no worker known to run it. */
  vanishedSince?: number;
  /** When (local clock) its worker became known. */
  assignedAt?: number;
}

export interface LostTry {
  key: string;
  workload: Workload;
  reason: string;
  /** Lost with its worker for the first time: the scheduler re-queues it if it never started. */
  maybeNotStarted: boolean;
  /** The worker it was lost with. */
  worker: string;
}

export interface CheckResult {
  /** Tries the alive, running workers start at once (their capacity); 0 when none is known. */
  capacity: number;
  lost: LostTry[];
  /** Tries an alive worker no longer runs and whose result never arrived: only their slot is freed. */
  forgotten: string[];
}

export class LostTries {
  /** Tries found on a gone (or missing) worker at the last check: lost if still so at the next. */
  private suspects = new Map<string, string>();
  /** Tries an alive worker no longer lists, at the last check: their slot is freed if still so. */
  private forgetting = new Set<string>();
  private readonly missingSince = new Map<string, number>();
  /** Tries already reported lost as maybe not started: a second loss uses up the try. */
  private readonly requeuedOnce = new Set<string>();
  /**
   * The worker each try was reported lost with. That worker's last heartbeat in the registry
   * still lists the try; once the scheduler queues it again (same try number), the registry must
   * not pin it on the dead worker before the next worker's "taken" message: that was a second
   * loss report, which failed a try another worker was about to run.
   */
  private readonly lostWith = new Map<string, string>();

  constructor(private readonly staleAfterS: number) {}

  /**
   * The worker a try was lost with, as another scheduler (or this one before a restart) recorded
   * it in Redis: that worker's last heartbeat must not claim the try again (see lostWith).
   */
  lostWithElsewhere(key: string, worker: string): void {
    if (!this.lostWith.has(key)) this.remember(this.lostWith, key, worker);
  }

  /**
   * Tries waiting for a worker that a gone worker's last heartbeat lists, not known here to have
   * been lost with it: whether they were is asked of Redis before the check.
   */
  listedByGoneWorkers(inFlight: ReadonlyMap<string, InFlight>, records: WorkerRecord[]): string[] {
    const out = new Set<string>();
    for (const r of records) {
      if (r.alive) continue;
      for (const t of r.running) {
        const key = tryKey({
          kind: "task",
          ti: { dag_id: t.dag_id, run_id: t.run_id, task_id: t.task_id, map_index: t.map_index },
          try_number: t.try_number,
        });
        if (inFlight.get(key)?.worker === null && !this.lostWith.has(key)) out.add(key);
      }
    }
    return [...out];
  }

  /** A result arrived for the try: whatever the last check thought of it is void. */
  settled(key: string): void {
    this.suspects.delete(key);
  }

  /** The registry could not be read: no suspicion carries over to the next check. */
  reset(): void {
    this.suspects.clear();
  }

  /** One check of `inFlight` against the registry's `records`; fills in workers known from it. */
  check(inFlight: ReadonlyMap<string, InFlight>, records: WorkerRecord[], nowMs: number): CheckResult {
    const staleMs = this.staleAfterS * 1000;
    const byId = new Map(records.map((r) => [r.id, r]));
    const capacity = records
      .filter((r) => r.alive && r.state === "running")
      .reduce((n, r) => n + Math.min(r.concurrency, r.capacity ?? r.concurrency), 0);
    const runningOn = new Map<string, string>();
    for (const r of records)
      for (const t of r.running) {
        const key = tryKey({
          kind: "task",
          ti: { dag_id: t.dag_id, run_id: t.run_id, task_id: t.task_id, map_index: t.map_index },
          try_number: t.try_number,
        });
        if (this.lostWith.get(key) !== r.id) runningOn.set(key, r.id);
      }
    const suspects = new Map<string, string>();
    const seenWorkers = new Set<string>();
    const forgotten = new Set<string>();
    const noLongerListed = (key: string, f: InFlight, rec: WorkerRecord | undefined): boolean =>
      rec !== undefined &&
      rec.alive &&
      f.workload.kind === "task" &&
      runningOn.get(key) !== rec.id &&
      nowMs - (f.assignedAt ?? nowMs) >= staleMs;
    for (const [key, f] of inFlight) {
      if (f.worker === null) {
        f.worker = runningOn.get(key) ?? null;
        if (f.worker !== null) f.assignedAt = nowMs;
      }
      if (f.worker === null) continue;
      f.assignedAt ??= nowMs;
      seenWorkers.add(f.worker);
      const rec = byId.get(f.worker);
      let why: string | null = null;
      if (rec === undefined) {
        // Missing after a Redis restart is normal until the worker's next heartbeat.
        const since = this.missingSince.get(f.worker) ?? nowMs;
        this.missingSince.set(f.worker, since);
        if (nowMs - since >= staleMs)
          why = `worker ${f.worker} is gone: not in the workers' registry for ${Math.round((nowMs - since) / 1000)} s`;
      } else {
        this.missingSince.delete(f.worker);
        if (rec.stopped)
          why = `worker ${rec.id} (${rec.hostname}, pid ${rec.pid}) stopped while running this try`;
        else if (!rec.alive)
          why = `worker ${rec.id} (${rec.hostname}, pid ${rec.pid}) is gone: last heartbeat ${Math.round(rec.seconds_since_heartbeat)} s ago (worker.stale_after ${this.staleAfterS} s)`;
        else if (noLongerListed(key, f, rec)) {
          // Alive, and its heartbeats no longer list the try: the result never reached this
          // executor (written to another owner's stream, or lost with Redis). The try is over on
          // the worker; the server has its end, so only the slot is freed.
          if (this.forgetting.has(key)) forgotten.add(key);
          continue;
        }
      }
      if (why !== null) suspects.set(key, why);
    }
    for (const w of this.missingSince.keys()) if (!seenWorkers.has(w)) this.missingSince.delete(w);
    const lost: LostTry[] = [];
    for (const [key, why] of suspects) {
      const f = inFlight.get(key);
      if (f === undefined || !this.suspects.has(key)) continue;
      if (f.worker === null) continue; // suspects always have a worker
      lost.push({
        key,
        workload: f.workload,
        reason: why,
        maybeNotStarted: this.mayRequeue(f.workload),
        worker: f.worker,
      });
      this.remember(this.lostWith, key, f.worker);
      suspects.delete(key);
    }
    this.suspects = suspects;
    // Seen so at this check: forgotten at the next one if still so.
    const gone = new Set([...forgotten, ...lost.map((l) => l.key)]);
    const nextForgetting = new Set<string>();
    for (const [key, f] of inFlight) {
      if (gone.has(key)) continue;
      const rec = f.worker === null ? undefined : byId.get(f.worker);
      if (noLongerListed(key, f, rec)) nextForgetting.add(key);
    }
    this.forgetting = nextForgetting;
    return { capacity, lost, forgotten: [...forgotten] };
  }

  /**
   * Whether a try lost with its worker may go back to the queue if it never started (the
   * scheduler checks the server saw no start): once per try, so that a workload that kills every
   * worker taking it still ends through its retries.
   */
  private mayRequeue(w: Workload): boolean {
    if (w.kind !== "task") return false;
    const key = tryKey(w);
    if (this.requeuedOnce.has(key)) return false;
    this.remember(this.requeuedOnce, key, key);
    return true;
  }

  /** Bounded: the oldest entries go first (a try handed back that long ago has long settled). */
  private remember(into: Set<string> | Map<string, string>, key: string, value: string): void {
    if (into instanceof Set) into.add(key);
    else into.set(key, value);
    if (into.size > 10_000) into.delete(into.keys().next().value as string);
  }
}
