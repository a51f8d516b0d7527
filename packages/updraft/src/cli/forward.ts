// The client half of running a command through `updraft standalone`: while the standalone server
// holds the embedded database (one process per PGlite data directory), a CLI command that needs
// the database is sent to it whole (`POST <url>/api/v1/cli`) and its output printed here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { cliChunkSchema, cliReplySchema } from "../api/rest/cli.js";
import { createUpdraftClient } from "../client/index.js";
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
    const chunk = cliChunkSchema.safeParse(JSON.parse(line));
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
  const api = createUpdraftClient({ baseUrl: server.url, token: server.token });
  let result: Awaited<ReturnType<typeof post>>;
  const post = () =>
    api.POST("/api/v1/cli", {
      body: { argv: [...argv], cwd },
      headers: { accept: "application/x-ndjson, application/json" },
      parseAs: "stream",
    });
  try {
    result = await post();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw forwardFailed(server, `cannot reach ${server.url} (${cause?.code ?? String(err)})`, err);
  }
  const { data, error, response } = result;
  if (!response.ok || data === undefined) {
    const problem = error as { detail?: unknown } | string | undefined;
    const detail =
      typeof problem === "object" && typeof problem.detail === "string"
        ? problem.detail
        : String(problem ?? "").slice(0, 300);
    throw forwardFailed(server, `HTTP ${response.status}${detail === "" ? "" : ` (${detail})`}`);
  }
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("ndjson") && data !== null) {
    try {
      return await readStreamed(server, data, io);
    } catch (err) {
      if (err instanceof UpdraftError) throw err;
      throw forwardFailed(server, `the streamed reply broke off (${String(err)})`, err);
    }
  }
  const text = data === null ? "" : await new Response(data).text().catch(() => "");
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: reported below.
  }
  const reply = cliReplySchema.safeParse(json);
  if (!reply.success) throw forwardFailed(server, "the reply is not {stdout, stderr, exit_code}");
  io.out(reply.data.stdout);
  io.err(reply.data.stderr);
  return reply.data.exit_code;
}
