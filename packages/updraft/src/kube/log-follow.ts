// Follows one container's log through the log API (`follow=true`), line by line, as it is written.
// A stream that ends while the container still runs (an API server restart, a proxy's idle
// timeout) is opened again from the last line's timestamp, so no line is lost or repeated.
import { Writable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import { describeError } from "../common/errors.js";

export interface FollowLogOptions {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  /** Each complete line, without its timestamp and newline. */
  onLine(line: string): void;
  /** Settles when the container has ended: the stream is then read to its end and not reopened. */
  containerEnded: Promise<unknown>;
  signal: AbortSignal;
  /** Told when reading is interrupted (it is retried). */
  warn?(message: string): void;
  /** Called once the stream is open (the server answered 200). */
  onOpen?(): void;
}

/** How long the log may take to drain after the container ended. */
const DRAIN_MS = 10_000;
const RETRY_MS = 500;

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/s;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Resolves when the container's log has been read to its end (or reading was aborted). */
export async function followContainerLog(o: FollowLogOptions): Promise<void> {
  const k8s = await import("@kubernetes/client-node");
  let ended = false;
  void o.containerEnded.then(
    () => (ended = true),
    () => (ended = true),
  );
  let lastStamp: string | undefined;
  let failures = 0;
  const aborted = new Promise<"abort">((resolve) => {
    if (o.signal.aborted) resolve("abort");
    o.signal.addEventListener("abort", () => resolve("abort"), { once: true });
  });
  while (!o.signal.aborted) {
    let pending = "";
    const resumeAfter = lastStamp;
    const emit = (raw: string) => {
      const m = TIMESTAMP.exec(raw);
      if (m === null) return o.onLine(raw);
      const [, stamp = "", text = ""] = m;
      // Reopened from the last timestamp: lines up to it were shown already.
      if (resumeAfter !== undefined && stamp <= resumeAfter) return;
      lastStamp = stamp;
      o.onLine(text);
    };
    let finish: () => void = () => undefined;
    const finished = new Promise<"eof">((resolve) => (finish = () => resolve("eof")));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        pending += chunk.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) emit(l.replace(/\r$/, ""));
        cb();
      },
      final(cb) {
        if (pending !== "") emit(pending);
        pending = "";
        cb();
      },
    });
    sink.on("finish", finish);
    sink.on("close", finish);
    let controller: AbortController;
    try {
      controller = await new k8s.Log(o.kc).log(o.namespace, o.pod, o.container, sink, {
        follow: true,
        timestamps: true,
        ...(lastStamp === undefined ? {} : { sinceTime: lastStamp }),
      });
      failures = 0;
      o.onOpen?.();
    } catch (err) {
      // 400 while the container is still being created, 404 after the Pod is gone.
      if (ended) return;
      failures++;
      if (failures === 10)
        o.warn?.(
          `Reading the log of ${o.pod}/${o.container} keeps failing: ${describeError(err)}; retrying.`,
        );
      await Promise.race([sleep(RETRY_MS * Math.min(failures, 4)), aborted]);
      continue;
    }
    const first = await Promise.race([
      finished,
      aborted,
      o.containerEnded.then(
        () => "ended" as const,
        () => "ended" as const,
      ),
    ]);
    if (first === "abort") {
      controller.abort();
      return;
    }
    if (first === "ended") {
      // The container is done: whatever it wrote arrives, then the server ends the stream.
      const drained = await Promise.race([finished, aborted, sleep(DRAIN_MS).then(() => "late" as const)]);
      controller.abort();
      if (drained === "late")
        o.warn?.(
          `The log of ${o.pod}/${o.container} did not end ${DRAIN_MS / 1000} s after the container; stopped reading it.`,
        );
      return;
    }
    if (ended) return;
    // The stream ended while the container runs: reopen it.
    await Promise.race([sleep(RETRY_MS), aborted]);
  }
}
