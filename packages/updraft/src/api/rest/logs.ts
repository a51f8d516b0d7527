// A try's task log, as Airflow 2's `…/logs/{try_number}`: JSON in chunks with a continuation
// token (to tail a running try: ask again with the token, get only what was written since), or
// the whole file as streamed plain text (`Accept: text/plain`), which starts at once however
// large the log is.
import { createReadStream } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { getTaskInstance, type Database } from "../../db/index.js";
import { taskLogRelativePath } from "../../model/log-path.js";
import { Id, route } from "./common.js";
import type { PodLogSource } from "./pod-log.js";
import type { WorkerLogSource } from "./worker-log.js";

/** The most one JSON reply carries; the continuation token asks for the rest. */
export const LOG_CHUNK_BYTES = 1024 * 1024;

const LogPath = z.object({
  dag_id: Id,
  dag_run_id: Id,
  task_id: Id,
  try_number: z.coerce.number().int().min(1).max(100_000),
});
const LogQuery = z.object({
  map_index: z.coerce.number().int().min(-1).default(-1),
  /** Airflow's `token`: where the previous reply stopped. */
  token: z.string().max(200).optional(),
  /** Airflow's `full_content`: the whole log in one reply, however large (the plain-text reply streams instead). */
  full_content: z
    .enum(["true", "false"])
    .default("false")
    .transform((s) => s === "true"),
  /**
   * The most bytes this reply carries (Updraft's; default and maximum 1 MiB): a viewer asks for a
   * small first chunk to show the first lines at once, then for full chunks.
   */
  max_bytes: z.coerce.number().int().min(1024).max(LOG_CHUNK_BYTES).optional(),
});
const LogJson = z
  .object({
    content: z.string(),
    /** Pass back as `token` for what follows; null once the try has ended and everything was read. */
    continuation_token: z.string().nullable(),
  })
  .meta({ id: "TaskInstanceLog" });

/** A token is the byte offset to read from, base64url-encoded JSON (it grants nothing: it is not signed). */
function encodeToken(pos: number): string {
  return Buffer.from(JSON.stringify({ log_pos: pos })).toString("base64url");
}
function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const pos = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { log_pos?: unknown })
      .log_pos;
    if (typeof pos === "number" && Number.isSafeInteger(pos) && pos >= 0) return pos;
  } catch {
    // reported below
  }
  throw new UpdraftError(
    "PARAMETER_INVALID",
    "The token is not one this API gave out: pass the continuation_token of the previous reply unchanged, or no token to read from the start.",
  );
}

function logNotFound(what: string): UpdraftError {
  return new UpdraftError("LOG_NOT_FOUND", what);
}

/**
 * Task logs, read from `logging.base_log_folder` at the path the runner writes (taskLogRelativePath,
 * the one function both sides use). The path is built from escaped ids (never from raw input) and
 * checked to stay inside the folder, also after following symbolic links. A log whose file is
 * missing is read from the try's Pod when `podLogs` is given (the KubernetesExecutor), or from the
 * worker that ran it when `workerLogs` is given (the QueueExecutor).
 */
export function logRoutes(
  database: Database,
  baseLogFolder: string,
  podLogs: PodLogSource | null = null,
  workerLogs: WorkerLogSource | null = null,
) {
  const db = database.db;
  const base = resolve(baseLogFolder);
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = {
      params: LogPath,
      querystring: LogQuery,
      response: { 200: LogJson },
    };
    app.get(
      "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/logs/:try_number",
      route("get_log", "Get a try's log", ["TaskInstance"], schema),
      async (request, reply) => {
        const p = request.params;
        const q = request.query;
        const key = { dag_id: p.dag_id, run_id: p.dag_run_id, task_id: p.task_id, map_index: q.map_index };
        const ti = await getTaskInstance(db, {
          dagId: p.dag_id,
          runId: p.dag_run_id,
          taskId: p.task_id,
          mapIndex: q.map_index,
        });
        if (ti === undefined) {
          throw new UpdraftError(
            "TASK_INSTANCE_NOT_FOUND",
            `Run "${p.dag_run_id}" of DAG "${p.dag_id}" has no task instance "${p.task_id}" (map index ${q.map_index}).`,
          );
        }
        if (p.try_number > ti.try_number)
          throw logNotFound(
            `Task "${p.task_id}" has had ${ti.try_number} tries; there is no log of try ${p.try_number}.`,
          );
        const from = decodeToken(q.token);
        const file = await insideOrNull(base, resolve(base, taskLogRelativePath(key, p.try_number)));
        // The try is still writing while it is this try and running (or about to).
        const writing =
          p.try_number === ti.try_number &&
          (ti.state === "running" || ti.state === "queued" || ti.state === "restarting");
        const plain = (request.headers.accept ?? "").includes("text/plain");
        if (file === null) {
          const missing = `No log of try ${p.try_number} of task "${p.task_id}" was found (it may not have started, or its log lives elsewhere).`;
          if (workerLogs !== null) {
            // The host that ran the try: the instance's for its latest try, the history's for earlier ones.
            const host =
              p.try_number === ti.try_number
                ? ti.hostname
                : ((
                    await db
                      .selectFrom("task_instance_history")
                      .select("hostname")
                      .where("dag_id", "=", key.dag_id)
                      .where("run_id", "=", key.run_id)
                      .where("task_id", "=", key.task_id)
                      .where("map_index", "=", key.map_index)
                      .where("try_number", "=", p.try_number)
                      .executeTakeFirst()
                  )?.hostname ?? null);
            const maxBytes = plain || q.full_content ? null : (q.max_bytes ?? LOG_CHUNK_BYTES);
            const fromWorker = await workerLogs.read(key, p.try_number, host, { from, maxBytes });
            if (fromWorker !== null) {
              if (!fromWorker.found) throw logNotFound(`${missing} ${fromWorker.hint}`);
              if (plain)
                return reply
                  .type("text/plain; charset=utf-8")
                  .send(fromWorker.chunk as unknown as z.infer<typeof LogJson>);
              return chunkReply(fromWorker.chunk, fromWorker.start, fromWorker.size, writing);
            }
          }
          const fromPod = podLogs === null ? null : await podLogs.read(key, p.try_number);
          if (fromPod === null) throw logNotFound(missing);
          if (!fromPod.found) throw logNotFound(`${missing} ${fromPod.hint}`);
          const log = Buffer.from(fromPod.text, "utf8");
          if (plain)
            return reply
              .type("text/plain; charset=utf-8")
              .send(log.subarray(Math.min(from, log.length)) as unknown as z.infer<typeof LogJson>);
          return chunkOf(log, from, q, writing);
        }
        if (plain) {
          // A stream bypasses the JSON serializer; the schema types only the JSON reply.
          const stream = createReadStream(file, { start: from });
          return reply.type("text/plain; charset=utf-8").send(stream as unknown as z.infer<typeof LogJson>);
        }
        const handle = await open(file, "r");
        try {
          const { size } = await handle.stat();
          const start = Math.min(from, size);
          const length = chunkLength(size - start, q);
          const buffer = Buffer.alloc(length);
          await handle.read(buffer, 0, length, start);
          return chunkReply(buffer, start, size, writing);
        } finally {
          await handle.close();
        }
      },
    );
  };
}

/** How much of the `left` bytes one JSON reply carries. */
function chunkLength(left: number, q: { full_content: boolean; max_bytes?: number | undefined }): number {
  return q.full_content ? left : Math.min(left, q.max_bytes ?? LOG_CHUNK_BYTES);
}

/** The JSON reply for `buffer`, read at `start` of a log of `size` bytes. */
function chunkReply(buffer: Buffer, start: number, size: number, writing: boolean): z.infer<typeof LogJson> {
  // Stop at the last complete UTF-8 character, so that a chunk never splits one.
  const text = buffer.toString("utf8", 0, completeUtf8(buffer));
  const next = start + Buffer.byteLength(text);
  const done = !writing && next >= size;
  return { content: text, continuation_token: done ? null : encodeToken(next) };
}

/**
 * The JSON reply for a log held whole in memory (read from a Pod): the token is a byte offset
 * into it as into a file, since a Pod's log, like the file, only grows.
 */
function chunkOf(
  log: Buffer,
  from: number,
  q: { full_content: boolean; max_bytes?: number | undefined },
  writing: boolean,
): z.infer<typeof LogJson> {
  const start = Math.min(from, log.length);
  return chunkReply(
    log.subarray(start, start + chunkLength(log.length - start, q)),
    start,
    log.length,
    writing,
  );
}

/** The length of `buf` without a trailing incomplete UTF-8 sequence. */
function completeUtf8(buf: Buffer): number {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && ((buf[i] ?? 0) & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return buf.length;
  const lead = buf[i] ?? 0;
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  return need > continuation ? i : buf.length;
}

/** The file's real path when it (and its real path) lie inside `base`; null otherwise or when missing. */
async function insideOrNull(base: string, file: string): Promise<string | null> {
  if (!isInside(base, file)) return null;
  try {
    const [real, realBase] = await Promise.all([realpath(file), realpath(base)]);
    return isInside(realBase, real) ? real : null;
  } catch {
    return null;
  }
}

/** Compared by relative path rather than by prefix, which a log folder of `/` would defeat. */
function isInside(base: string, path: string): boolean {
  const r = relative(base, path);
  return r !== "" && r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}
