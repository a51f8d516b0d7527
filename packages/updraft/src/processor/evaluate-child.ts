// Entry of an evaluation child process (forked by worker-pool.ts). It imports compiled DAG files
// one at a time and sends back what collect.ts made of them. User code runs only here; the
// parent kills this process on a timeout and replaces it after a crash.
import { pathToFileURL } from "node:url";
import { isUpdraftError } from "../common/errors.js";
import { beginFileCollection, finishFileCollection } from "./collect.js";
import type { ChildMessage, EvaluateRequest } from "./messages.js";
import { userFrameLine } from "./stack.js";

let seq = 0;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function describeThrown(err: unknown): string {
  if (isUpdraftError(err)) return err.message;
  if (err instanceof Error)
    return err.name === "Error" || err.name === "" ? err.message : `${err.name}: ${err.message}`;
  return `A value that is not an Error was thrown: ${typeof err === "string" ? err : JSON.stringify(err)}`;
}

function failure(req: EvaluateRequest, err: unknown, started: number): ChildMessage {
  const found = userFrameLine(err, req.fileloc);
  // The message stays self-contained (JSON consumers see no separate line field).
  const where =
    found.line !== undefined
      ? ` (line ${found.line}, column ${found.column ?? 0})`
      : found.elsewhere !== undefined
        ? ` (at ${found.elsewhere})`
        : "";
  const error = `${describeThrown(err)}${where}`;
  const durationMs = performance.now() - started;
  return found.line === undefined
    ? { type: "result", id: req.id, ok: false, error, durationMs }
    : { type: "result", id: req.id, ok: false, error, line: found.line, durationMs };
}

async function evaluate(req: EvaluateRequest): Promise<ChildMessage> {
  const started = performance.now();
  try {
    beginFileCollection(req.fileloc);
  } catch (err) {
    return failure(req, err, started);
  }
  try {
    // A fresh URL per evaluation: ESM caches modules by URL and never re-runs one.
    await import(`${pathToFileURL(req.compiledPath).href}?v=${req.key.slice(0, 16)}.${++seq}`);
  } catch (err) {
    try {
      finishFileCollection(); // resets the registry; a file that threw contributes no DAGs
    } catch {
      // the import error is what the user needs to see
    }
    return failure(req, err, started);
  }
  try {
    const { dags, problems } = finishFileCollection();
    return { type: "result", id: req.id, ok: true, dags, problems, durationMs: performance.now() - started };
  } catch (err) {
    return failure(req, err, started);
  }
}

// One file at a time: the SDK's registry is per file.
let queue: Promise<void> = Promise.resolve();
process.on("message", (msg: EvaluateRequest) => {
  if (msg.type !== "evaluate") return;
  queue = queue.then(async () => send(await evaluate(msg)));
});
// Timers or promises a DAG file left behind must not take down the child (and the next file).
process.on("uncaughtException", (err) =>
  console.error("Uncaught exception after a DAG file was evaluated:", err),
);
process.on("unhandledRejection", (err) =>
  console.error("Unhandled rejection after a DAG file was evaluated:", err),
);
// The parent went away: nothing left to do.
process.on("disconnect", () => process.exit(0));

// Load the SDK before saying ready, so that the first file does not pay for it.
await import("../index.js").catch(() => undefined);
send({ type: "ready" });
