// The client half of running a command through `updraft standalone`: while the standalone server
// holds the embedded database (one process per PGlite data directory), a CLI command that needs
// the database is sent to it whole (`POST <url>/api/v1/cli`) and its output printed here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UpdraftError } from "../common/errors.js";
import type { CliIO } from "./commands/context.js";

/** `$UPDRAFT_HOME/standalone.json`, written (mode 0600) by `updraft standalone` while it runs. */
export const STANDALONE_FILE = "standalone.json";

const standaloneSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string().url(),
  token: z.string().min(1),
  /** The folder standalone parses, for commands that read DAG files themselves. */
  dags_folder: z.string().optional(),
});
export type StandaloneInfo = z.infer<typeof standaloneSchema>;

const replySchema = z.object({
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int(),
});
export type CliReply = z.infer<typeof replySchema>;

/** One line of a streamed reply (`application/x-ndjson`): output as it happens, then the exit code. */
const chunkSchema = z.union([
  z.object({ stdout: z.string() }),
  z.object({ stderr: z.string() }),
  z.object({ exit_code: z.number().int() }),
]);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The standalone server of this UPDRAFT_HOME if one runs: its file names a live pid. A missing,
 * unreadable or malformed file, or a dead pid (a crashed server leaves its file), is none.
 */
export function findStandalone(home: string): StandaloneInfo | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(home, STANDALONE_FILE), "utf8"));
  } catch {
    return null;
  }
  const parsed = standaloneSchema.safeParse(raw);
  if (!parsed.success || !pidAlive(parsed.data.pid)) return null;
  return parsed.data;
}

function forwardFailed(server: StandaloneInfo, reason: string, cause?: unknown): UpdraftError {
  return new UpdraftError(
    "CLI_FORWARD_FAILED",
    `The embedded database is held by the Updraft server (pid ${server.pid}, ${server.url}), and sending the command to it failed: ${reason}. Check that the server is healthy, or stop it and run the command again.`,
    { cause, details: { pid: server.pid, url: server.url } },
  );
}

async function readStreamed(
  server: StandaloneInfo,
  body: ReadableStream<Uint8Array>,
  io: CliIO,
): Promise<number> {
  const decoder = new TextDecoder();
  let buffered = "";
  let exitCode: number | null = null;
  const handle = (line: string): void => {
    if (line.trim() === "") return;
    const chunk = chunkSchema.safeParse(JSON.parse(line));
    if (!chunk.success) throw forwardFailed(server, "the server sent a line that is not CLI output");
    if ("stdout" in chunk.data) io.out(chunk.data.stdout);
    else if ("stderr" in chunk.data) io.err(chunk.data.stderr);
    else exitCode = chunk.data.exit_code;
  };
  for await (const part of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(part, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      handle(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  handle(buffered);
  if (exitCode === null) throw forwardFailed(server, "the reply ended before the command finished");
  return exitCode;
}

/**
 * Runs `argv` in the standalone server and prints what it printed; returns its exit code.
 * A streamed reply (`application/x-ndjson`) is printed as it arrives, a JSON one at the end.
 */
export async function forwardCommand(
  server: StandaloneInfo,
  argv: readonly string[],
  cwd: string,
  io: CliIO,
): Promise<number> {
  const url = `${server.url.replace(/\/+$/, "")}/api/v1/cli`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server.token}`,
        "content-type": "application/json",
        accept: "application/x-ndjson, application/json",
      },
      body: JSON.stringify({ argv, cwd }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw forwardFailed(server, `cannot reach ${url} (${cause?.code ?? String(err)})`, err);
  }
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    let detail = text.slice(0, 300);
    try {
      const problem = JSON.parse(text) as { detail?: unknown };
      if (typeof problem.detail === "string") detail = problem.detail;
    } catch {
      // Not a problem document: show the start of the body as is.
    }
    throw forwardFailed(server, `HTTP ${res.status}${detail === "" ? "" : ` (${detail})`}`);
  }
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("ndjson") && res.body !== null) {
    try {
      return await readStreamed(server, res.body, io);
    } catch (err) {
      if (err instanceof UpdraftError) throw err;
      throw forwardFailed(server, `the streamed reply broke off (${String(err)})`, err);
    }
  }
  const reply = replySchema.safeParse(await res.json().catch(() => null));
  if (!reply.success) throw forwardFailed(server, "the reply is not {stdout, stderr, exit_code}");
  io.out(reply.data.stdout);
  io.err(reply.data.stderr);
  return reply.data.exit_code;
}
