// A try's log as lines, loaded a chunk at a time with the API's continuation token (at most 1 MB a
// reply, api/rest/logs.ts): the first lines show after one small request however large the log
// is, the rest streams in behind them, and a running try is followed by asking again with the
// last token until the API answers null (the try ended and everything was read).
import { useEffect, useRef, useState } from "react";
import { api, ApiError, unwrap } from "../../lib/api";

/** The first request's size: a screen of lines many times over, quick to send and parse. */
const FIRST_CHUNK_BYTES = 64 * 1024;

export interface LogKey {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

/** How long to wait before asking again while a running try has nothing new. */
const POLL_MS = 2_000;

/** The lines read so far; the last one may still be open (no newline yet). */
export class LogLines {
  readonly lines: string[] = [];
  bytes = 0;
  private open = false;

  push(text: string): void {
    if (text === "") return;
    this.bytes += text.length;
    const parts = text.replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    if (this.open && this.lines.length > 0) {
      this.lines[this.lines.length - 1] += parts[0] ?? "";
      i = 1;
    }
    // A loop, not push(...parts): a 1 MB chunk can hold more lines than a call's argument limit.
    for (; i < parts.length; i++) this.lines.push(parts[i] ?? "");
    // split leaves "" after a final newline: that empty string is the next, still open line.
    this.open = true;
  }

  /** Lines to show: an empty open last line is not one. */
  get count(): number {
    const n = this.lines.length;
    return n > 0 && this.lines[n - 1] === "" ? n - 1 : n;
  }
}

export interface LogState {
  lines: LogLines;
  /** Bumped whenever lines arrive, so that views re-render. */
  version: number;
  /** Everything was read and the try has ended. */
  done: boolean;
  error: string | null;
}

/** The log of one try, kept up to date while the try runs. */
export function useLogLines(key: LogKey): LogState {
  const [state, setState] = useState<LogState>(() => ({
    lines: new LogLines(),
    version: 0,
    done: false,
    error: null,
  }));
  const id = `${key.dagId}\u0000${key.runId}\u0000${key.taskId}\u0000${key.mapIndex}\u0000${key.tryNumber}`;
  const current = useRef(id);
  useEffect(() => {
    current.current = id;
    const lines = new LogLines();
    let version = 0;
    let stopped = false;
    setState({ lines, version, done: false, error: null });
    const path = { dag_id: key.dagId, dag_run_id: key.runId, task_id: key.taskId, try_number: key.tryNumber };
    void (async () => {
      let token: string | undefined;
      while (!stopped) {
        try {
          const chunk = await unwrap(
            api.GET("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{try_number}", {
              params: {
                path,
                // A small first chunk shows the first lines at once; full chunks follow.
                query: {
                  map_index: key.mapIndex,
                  ...(token === undefined ? { max_bytes: FIRST_CHUNK_BYTES } : { token }),
                },
              },
            }),
          );
          if (stopped) return;
          lines.push(chunk.content);
          const done = chunk.continuation_token === null;
          if (chunk.content !== "" || done) setState({ lines, version: ++version, done, error: null });
          if (done) return;
          token = chunk.continuation_token ?? undefined;
          // Caught up with a try that is still writing: ask again in a while.
          if (chunk.content === "") await sleep(POLL_MS);
        } catch (err) {
          if (stopped) return;
          const gone = err instanceof ApiError && err.status === 404;
          setState({ lines, version: ++version, done: !gone, error: (err as Error).message });
          // A try that has not written its log yet (404) gets it soon; other errors are shown.
          if (!gone) return;
          await sleep(POLL_MS);
        }
      }
    })();
    return () => {
      stopped = true;
    };
  }, [id, key.dagId, key.runId, key.taskId, key.mapIndex, key.tryNumber]);
  // A render between a key change and its effect must not show the previous try's lines.
  return current.current === id ? state : { ...state, lines: new LogLines(), version: -1 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The whole log as plain text through the API (the session cookie goes with it), saved as a file. */
export async function downloadLog(key: LogKey): Promise<void> {
  const url =
    `/api/v1/dags/${encodeURIComponent(key.dagId)}/dagRuns/${encodeURIComponent(key.runId)}` +
    `/taskInstances/${encodeURIComponent(key.taskId)}/logs/${key.tryNumber}?map_index=${key.mapIndex}`;
  const res = await fetch(url, {
    headers: { accept: "text/plain", "x-requested-with": "XMLHttpRequest" },
    credentials: "same-origin",
  });
  if (!res.ok) throw new ApiError(res.status, `The log could not be downloaded (${res.status}).`);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  const mapped = key.mapIndex >= 0 ? `__${key.mapIndex}` : "";
  a.download = `${key.dagId}__${key.runId}__${key.taskId}${mapped}__try${key.tryNumber}.log`.replace(
    /[^\w.+-]/g,
    "_",
  );
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
