// A try's log read from the QueueExecutor worker that ran it, for when the log file is not on the
// API server (no shared logs volume): the task instance records the runner's hostname, the
// workers' registry says where that host's worker serves logs (its server_url), and the worker's
// log server (worker/log-server.ts) answers a token signed for exactly that file. As pod-log.ts
// does for Pods, failures become one line of the log text, never an error answer.
import { UpdraftError } from "../../common/errors.js";
import type { TaskInstanceKey } from "../../model/execution-api.js";
import { taskLogRelativePath } from "../../model/log-path.js";
import type { WorkerRecord } from "../../queue/index.js";
import { logUrlPath, signLogToken } from "../../worker/log-server.js";
import type { WorkerRegistry } from "./workers-registry.js";

/** How long one read from a worker may take (connect, headers and body). */
export const WORKER_LOG_TIMEOUT_MS = 5_000;

/** What to do so that logs do not depend on the worker that wrote them. */
export const SHARED_LOGS_HINT =
  "share logging.base_log_folder between the workers and the API server (a shared volume) to keep logs readable after a worker is gone";

/**
 * Bytes of the log as served: a line saying where it came from, then the worker's file. `start`
 * and `size` are offsets into that whole, as into a file, so continuation tokens work unchanged.
 */
export type WorkerLog =
  | { found: true; chunk: Buffer; start: number; size: number }
  /** No worker of that host serves logs; `hint` says why and what to do. */
  | { found: false; hint: string };

export interface WorkerLogSource {
  /**
   * The log of `tryNumber` from the worker on `hostname`, from byte `from`, at most `maxBytes`
   * (null: to the end). Null when the QueueExecutor is not configured or the host is unknown.
   */
  read(
    ti: TaskInstanceKey,
    tryNumber: number,
    hostname: string | null,
    range: { from: number; maxBytes: number | null },
  ): Promise<WorkerLog | null>;
}

function line(text: string): Buffer {
  return Buffer.from(`*** ${text}\n`, "utf8");
}

/** A whole text as the served log, read from `from`. */
function whole(text: Buffer, from: number, maxBytes: number | null): WorkerLog {
  const start = Math.min(from, text.length);
  const end = maxBytes === null ? text.length : Math.min(text.length, start + maxBytes);
  return { found: true, chunk: text.subarray(start, end), start, size: text.length };
}

/**
 * The entry of the worker on `hostname` that ran the try: the one that runs it now, else an alive
 * one, else the latest heartbeat (the registry's order); several workers may share a host.
 */
function workerOf(
  workers: readonly WorkerRecord[],
  hostname: string,
  ti: TaskInstanceKey,
  tryNumber: number,
): WorkerRecord | undefined {
  const serving = workers.filter((w) => w.hostname === hostname && w.server_url !== null);
  const runsIt = serving.find((w) =>
    w.running.some(
      (t) =>
        t.dag_id === ti.dag_id &&
        t.run_id === ti.run_id &&
        t.task_id === ti.task_id &&
        t.map_index === ti.map_index &&
        t.try_number === tryNumber,
    ),
  );
  return runsIt ?? serving.find((w) => w.alive) ?? serving[0];
}

/** The log source of an API server whose core.executor lists the QueueExecutor, else null. */
export function workerLogSource(
  registry: WorkerRegistry,
  secretKey: string,
  o: { timeoutMs?: number } = {},
): WorkerLogSource | null {
  if (!registry.configured) return null;
  const timeoutMs = o.timeoutMs ?? WORKER_LOG_TIMEOUT_MS;
  return {
    async read(ti, tryNumber, hostname, range) {
      if (hostname === null) return null;
      let workers: WorkerRecord[];
      try {
        workers = await registry.list();
      } catch (err) {
        const why = err instanceof UpdraftError ? err.message : String(err);
        return whole(
          line(`The log file is not on the API server and try ${tryNumber} ran on ${hostname}; ${why}`),
          range.from,
          range.maxBytes,
        );
      }
      const worker = workerOf(workers, hostname, ti, tryNumber);
      if (worker === undefined || worker.server_url === null)
        return {
          found: false,
          hint: `It ran on ${hostname}, and no worker of that host is in the workers' registry with a log server (workers are forgotten an hour after their last heartbeat; worker.server_port 0 turns the server off): ${SHARED_LOGS_HINT}.`,
        };
      const head = line(
        `Reading from worker ${worker.hostname} at ${worker.server_url} (the log file is not on the API server)`,
      );
      const rel = taskLogRelativePath(ti, tryNumber);
      const fail = (why: string): WorkerLog =>
        whole(
          line(
            `Could not read the log of try ${tryNumber} from worker ${worker.hostname} at ${worker.server_url}: ${why} (${SHARED_LOGS_HINT}).`,
          ),
          range.from,
          range.maxBytes,
        );
      // Offsets count the head line first, then the file's bytes.
      const headPart = head.subarray(Math.min(range.from, head.length));
      const fileFrom = Math.max(0, range.from - head.length);
      const fileMax = range.maxBytes === null ? null : Math.max(1, range.maxBytes - headPart.length);
      let response: Response;
      let body: Buffer;
      try {
        response = await fetch(new URL(logUrlPath(rel), worker.server_url), {
          headers: {
            authorization: `Bearer ${signLogToken(rel, secretKey)}`,
            range: `bytes=${fileFrom}-${fileMax === null ? "" : fileFrom + fileMax - 1}`,
          },
          signal: AbortSignal.timeout(timeoutMs),
          redirect: "error",
        });
        body = Buffer.from(await response.arrayBuffer());
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why =
          e.name === "TimeoutError"
            ? `no answer within ${timeoutMs} ms`
            : (e.cause?.code ?? e.cause?.message ?? e.message);
        return fail(why);
      }
      let fileSize: number;
      let fileStart = fileFrom;
      if (response.status === 206) {
        const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
        if (m === null) return fail("the worker's answer has no Content-Range");
        fileStart = Number(m[1]);
        fileSize = Number(m[2]);
      } else if (response.status === 416) {
        const m = /^bytes \*\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
        fileSize = m === null ? fileFrom : Number(m[1]);
        body = Buffer.alloc(0);
        fileStart = Math.min(fileFrom, fileSize);
      } else if (response.status === 200) {
        // A server that ignores Range sends the whole file.
        fileSize = body.length;
        fileStart = Math.min(fileFrom, fileSize);
        body = body.subarray(fileStart, fileMax === null ? undefined : fileStart + fileMax);
      } else {
        const text = body.toString("utf8").trim().slice(0, 300);
        const hint =
          response.status === 401 || response.status === 403
            ? " (the API server and the workers must share api.secret_key)"
            : "";
        return fail(`the worker answered ${response.status}${text === "" ? "" : `: ${text}`}${hint}`);
      }
      return {
        found: true,
        chunk: Buffer.concat([headPart, body]),
        start: headPart.length > 0 ? range.from : head.length + fileStart,
        size: head.length + fileSize,
      };
    },
  };
}
