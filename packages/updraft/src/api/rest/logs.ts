import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { getTaskInstance, type Database } from "../../db/index.js";
import { taskLogRelativePath } from "../../model/log-path.js";
import { parseParams } from "../validate.js";
import { Id } from "./common.js";

const LogPath = z.object({
  dag_id: Id,
  dag_run_id: Id,
  task_id: Id,
  try_number: z.coerce.number().int().min(1).max(100_000),
});
const LogQuery = z.object({ map_index: z.coerce.number().int().min(-1).default(-1) });

/** Logs larger than this are cut to their last part. */
const MAX_LOG_BYTES = 16 * 1024 * 1024;

function logNotFound(what: string): UpdraftError {
  return new UpdraftError("LOG_NOT_FOUND", what);
}

/**
 * Task logs, read from `logging.base_log_folder` at the path the runner writes (taskLogRelativePath,
 * the one function both sides use). The path is built from escaped ids (never from raw input) and
 * checked to stay inside the folder, also after following symbolic links.
 */
export function logRoutes(database: Database, baseLogFolder: string) {
  const db = database.db;
  const base = resolve(baseLogFolder);
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get(
      "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/logs/:try_number",
      async (request, reply) => {
        const p = parseParams(LogPath, request.params);
        const { map_index } = parseParams(LogQuery, request.query);
        const key = { dag_id: p.dag_id, run_id: p.dag_run_id, task_id: p.task_id, map_index };
        const ti = await getTaskInstance(db, {
          dagId: p.dag_id,
          runId: p.dag_run_id,
          taskId: p.task_id,
          mapIndex: map_index,
        });
        if (ti === undefined) {
          throw new UpdraftError(
            "TASK_INSTANCE_NOT_FOUND",
            `Run "${p.dag_run_id}" of DAG "${p.dag_id}" has no task instance "${p.task_id}" (map index ${map_index}).`,
          );
        }
        if (p.try_number > ti.try_number)
          throw logNotFound(
            `Task "${p.task_id}" has had ${ti.try_number} tries; there is no log of try ${p.try_number}.`,
          );
        const file = resolve(base, taskLogRelativePath(key, p.try_number));
        const content = await readInside(base, file);
        if (content === null)
          throw logNotFound(
            `No log of try ${p.try_number} of task "${p.task_id}" was found (it may not have started, or its log lives elsewhere).`,
          );
        if ((request.headers.accept ?? "").includes("text/plain"))
          return reply.type("text/plain; charset=utf-8").send(content);
        return { content, continuation_token: null };
      },
    );
  };
}

async function readInside(base: string, file: string): Promise<string | null> {
  if (!isInside(base, file)) return null;
  let real: string;
  let realBase: string;
  try {
    [real, realBase] = await Promise.all([realpath(file), realpath(base)]);
  } catch {
    return null;
  }
  if (!isInside(realBase, real)) return null;
  const handle = await open(real, "r").catch(() => null);
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, MAX_LOG_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString("utf8");
    return size > length ? `[log cut: showing the last ${length} of ${size} bytes]\n${text}` : text;
  } finally {
    await handle.close();
  }
}

/** Compared by relative path rather than by prefix, which a log folder of `/` would defeat. */
function isInside(base: string, path: string): boolean {
  const r = relative(base, path);
  return r !== "" && r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}
