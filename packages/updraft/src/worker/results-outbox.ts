// A worker's results on their way to the results streams of the executors that queued the tries
// (executors/queue/protocol.ts). Whatever an executor acts on goes at once; the rest gathers.
import type { Redis } from "ioredis";
import type { ExecutorLogger } from "../executors/executor.js";
import { RESULTS_MAXLEN, resultsKey, type QueueResult } from "../executors/queue/protocol.js";

/**
 * How long a result that frees no slot may wait to be written: a try that ended with its runner
 * going on with a handed-over one changes nothing the scheduler waits for (the slot stays taken),
 * only the executor's record of which try holds it.
 */
export const BOOKKEEPING_MS = 100;

/** Whether the executor acts on `r` (a try taken, lost, or ended freeing its slot). */
function urgent(r: QueueResult): boolean {
  return !(r.type === "finished" && r.next !== null);
}

type Flush = { soon: true; handle: NodeJS.Immediate } | { soon: false; handle: NodeJS.Timeout };

export class ResultsOutbox {
  private readonly pending: { owner: string; r: QueueResult }[] = [];
  private scheduled: Flush | undefined;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly logger: ExecutorLogger,
  ) {}

  /** Results not written yet. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Queues `r` for `owner`'s stream. An urgent result is written at the next turn of the event
   * loop, with everything before it, in order; a try that ended with a handed-over one after it
   * (most of them, under load) waits up to BOOKKEEPING_MS for company. A write is one pipeline
   * of one entry per owner holding its batch: on a busy machine the writes, not the commands,
   * were most of a worker's CPU per try, and one XADD per try most of Redis's.
   */
  send(owner: string, r: QueueResult): void {
    this.pending.push({ owner, r });
    if (this.scheduled?.soon === true) return;
    if (urgent(r)) {
      this.cancel();
      this.scheduled = { soon: true, handle: setImmediate(() => this.flush()) };
    } else {
      this.scheduled ??= { soon: false, handle: setTimeout(() => this.flush(), BOOKKEEPING_MS) };
    }
  }

  /** Writes everything queued now (ioredis keeps commands while Redis is away, in order). */
  flush(): void {
    this.cancel();
    const byOwner = new Map<string, QueueResult[]>();
    for (const { owner, r } of this.pending.splice(0)) {
      const list = byOwner.get(owner);
      if (list === undefined) byOwner.set(owner, [r]);
      else list.push(r);
    }
    if (byOwner.size === 0) return;
    const batches = [...byOwner];
    const pipeline = this.client.pipeline();
    for (const [owner, results] of batches)
      pipeline.xadd(
        resultsKey(this.prefix, owner),
        "MAXLEN",
        "~",
        RESULTS_MAXLEN,
        "*",
        "m",
        JSON.stringify(results),
      );
    const failed = (err: unknown, [owner, results]: [string, QueueResult[]]): void =>
      this.logger.error(
        { owner, results: results.length, err: err instanceof Error ? err.message : String(err) },
        "could not report results to their scheduler",
      );
    pipeline
      .exec()
      .then((replies) =>
        replies?.forEach(([err], i) => {
          const batch = batches[i];
          if (err !== null && batch !== undefined) failed(err, batch);
        }),
      )
      .catch((err: unknown) => {
        for (const batch of batches) failed(err, batch);
      });
  }

  private cancel(): void {
    const f = this.scheduled;
    if (f?.soon === true) clearImmediate(f.handle);
    else if (f !== undefined) clearTimeout(f.handle);
    this.scheduled = undefined;
  }
}
