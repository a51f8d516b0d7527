// Routes console.* and process.stdout/stderr writes into the log of the try that is running. The
// patch is installed once per process; only the target changes per try (a warm runner runs one try
// at a time). Output with no try running (a timer a finished task left behind) goes to the real
// streams, which the executor reads.
import { format } from "node:util";
import { setTaskLogEcho, type LogLevel, type TaskLog } from "./task-log.js";

let target: TaskLog | null = null;
let installed = false;

type Write = typeof process.stdout.write;

/** The real streams, for runner messages that must never land in a task's log. */
export const realStdout: { write: (text: string) => boolean } = { write: (t) => process.stdout.write(t) };
export const realStderr: { write: (text: string) => boolean } = { write: (t) => process.stderr.write(t) };

function patchStream(stream: NodeJS.WriteStream, name: string, level: LogLevel): Write {
  const original = stream.write.bind(stream) as Write;
  const patched = function (this: unknown, chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean {
    const t = target;
    if (t === null) return (original as (...a: unknown[]) => boolean)(chunk, encodingOrCb, cb);
    const text =
      typeof chunk === "string"
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encodingOrCb === "string" ? (encodingOrCb as BufferEncoding) : "utf8",
          );
    t.chunk(name, level, text);
    const done = typeof encodingOrCb === "function" ? encodingOrCb : cb;
    if (typeof done === "function") queueMicrotask(() => (done as (err?: Error | null) => void)(null));
    return true;
  };
  stream.write = patched as Write;
  return original;
}

/** Installs the patch (idempotent). */
export function installStdioCapture(): void {
  if (installed) return;
  installed = true;
  const out = patchStream(process.stdout, "stdout", "INFO");
  const err = patchStream(process.stderr, "stderr", "ERROR");
  realStdout.write = (t) => out(t);
  realStderr.write = (t) => err(t);
  const methods: [keyof Console, LogLevel][] = [
    ["log", "INFO"],
    ["info", "INFO"],
    ["debug", "DEBUG"],
    ["warn", "WARNING"],
    ["error", "ERROR"],
    ["trace", "DEBUG"],
  ];
  for (const [name, level] of methods) {
    const original = console[name] as (...args: unknown[]) => void;
    (console as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const t = target;
      if (t === null) return original.apply(console, args);
      t.line(
        level,
        "task",
        name === "trace"
          ? `Trace: ${format(...args)}\n${new Error().stack?.split("\n").slice(2).join("\n") ?? ""}`
          : format(...args),
      );
    };
  }
}

/** Sends task output to `log` until `stopCapture`. */
export function captureInto(log: TaskLog): void {
  target = log;
}

export function stopCapture(): void {
  target = null;
}

/**
 * Task log lines also go to this process's real stdout: in a Kubernetes Pod, `kubectl logs` then
 * shows the task's log even where the log folder is not shared.
 */
export function echoTaskLogsToStdout(): void {
  setTaskLogEcho((text) => void realStdout.write(text));
}
