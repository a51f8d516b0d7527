import { createHash } from "node:crypto";
import type { TaskInstanceKey } from "./execution-api.js";

// Characters that stay as they are, so the common ids (`manual__2024-01-01T00:00:00+00:00`) keep
// the readable layout existing log folders already have.
const PLAIN = /^[A-Za-z0-9_.:+-]$/;

// Most file systems refuse a name past 255 bytes. Ids may be 250 characters, and escaping can make
// one twelve times longer, so a long one is cut and made unique by a hash of the whole id.
const MAX_ESCAPED = 180;
const KEPT_WHEN_CUT = 100;

/**
 * The id as one path component, so that two different ids never share a log folder (escaping,
 * not replacing: `x~1` and `x_1` once both became `x_1`). Every character outside PLAIN becomes
 * `%XX` per UTF-8 byte (so `%` is `%25` and `/` is `%2F`); a lone UTF-16 surrogate, which has no
 * UTF-8 form, becomes `%uXXXX`. A cut id ends in `~` and a SHA-256 of the id: `~` is always escaped
 * otherwise, so a cut name never equals an uncut one.
 */
export function logPathComponent(id: string): string {
  let out = "";
  for (const ch of id) {
    if (PLAIN.test(ch)) out += ch;
    else if (isLoneSurrogate(ch)) out += `%u${hex(ch.charCodeAt(0), 4)}`;
    else for (const byte of Buffer.from(ch, "utf8")) out += `%${hex(byte, 2)}`;
  }
  if (out.length <= MAX_ESCAPED) return out;
  const digest = createHash("sha256").update(id, "utf16le").digest("hex");
  return `${cutAtEscape(out, KEPT_WHEN_CUT)}~${digest}`;
}

/**
 * `dag_id=…/run_id=…/task_id=…/[map_index=…/]attempt=N.log`, relative to the log folder. Each id is
 * one component behind its `name=` prefix, so no component can be `.` or `..` and the path never
 * leaves the folder.
 */
export function taskLogRelativePath(ti: TaskInstanceKey, tryNumber: number): string {
  const parts = [
    `dag_id=${logPathComponent(ti.dag_id)}`,
    `run_id=${logPathComponent(ti.run_id)}`,
    `task_id=${logPathComponent(ti.task_id)}`,
  ];
  if (ti.map_index >= 0) parts.push(`map_index=${ti.map_index}`);
  parts.push(`attempt=${tryNumber}.log`);
  return parts.join("/");
}

/**
 * A log path chosen by the server (its logging.base_log_folder, then `taskLogRelativePath` or a
 * DAG-level callback's file beside the run's folders) moved under `folder`: a QueueExecutor
 * worker keeps its tries' logs in its own log folder, where its log server looks for them, not at
 * the scheduler's path, which may not exist or be writable on the worker's machine. Ids are
 * escaped (`=` and `/` never appear in one), so the last `/dag_id=` is where the relative part
 * starts; a path without one is returned as it is.
 */
export function relocateLogPath(path: string, folder: string): string {
  const at = path.lastIndexOf("/dag_id=");
  if (at < 0) return path;
  return `${folder.replace(/\/+$/, "")}${path.slice(at)}`;
}

/**
 * Set in a runner's environment by an executor whose machine keeps task logs in a folder of its
 * own (a QueueExecutor worker: its logging.base_log_folder).
 */
export const RUNNER_LOG_FOLDER_ENV = "UPDRAFT_RUNNER_LOG_FOLDER";

/** Where a runner started with `env` writes the log the server placed at `path`. */
export function localLogPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const folder = env[RUNNER_LOG_FOLDER_ENV];
  return folder === undefined || folder === "" ? path : relocateLogPath(path, folder);
}

function isLoneSurrogate(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code >= 0xd800 && code <= 0xdfff;
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** The first `length` characters, shortened so that no `%XX`/`%uXXXX` escape is split. */
function cutAtEscape(escaped: string, length: number): string {
  const lastPercent = escaped.lastIndexOf("%", length - 1);
  if (lastPercent < 0) return escaped.slice(0, length);
  const escapeLength = escaped[lastPercent + 1] === "u" ? 6 : 3;
  return escaped.slice(0, lastPercent + escapeLength <= length ? length : lastPercent);
}
