// `GET /log/<path>` on a worker's HTTP server (issue 12; Airflow's serve_logs): the API server
// reads the logs of tries a worker ran when they are not on the API server's disk. Only with a
// token the API server signed with api.secret_key for exactly that path, only inside
// logging.base_log_folder (`..`, NUL, absolute paths and symbolic links that lead out are refused),
// with `Range: bytes=…` so that the API reads a large log chunk by chunk (decision 0026).
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { isUpdraftError } from "../common/errors.js";
import { signToken, verifyToken } from "../common/signed-token.js";

/** The path prefix the handler serves. */
export const LOG_ROUTE_PREFIX = "/log/";
/** The `aud` claim of a log token: no other token signed with api.secret_key grants a log. */
export const LOG_TOKEN_AUDIENCE = "worker-log";
/** Seconds a log token is valid: long enough for one request, short enough not to be worth stealing. */
export const LOG_TOKEN_TTL_S = 60;

/** A token granting `GET /log/<relativePath>` for LOG_TOKEN_TTL_S seconds. */
export function signLogToken(relativePath: string, secret: string, nowMs: number = Date.now()): string {
  return signToken(
    { aud: LOG_TOKEN_AUDIENCE, path: relativePath, exp: Math.floor(nowMs / 1000) + LOG_TOKEN_TTL_S },
    secret,
  );
}

/** `/log/` and the path, each component URL-encoded (log file names hold `%`, `=`, `:`). */
export function logUrlPath(relativePath: string): string {
  return LOG_ROUTE_PREFIX + relativePath.split("/").map(encodeURIComponent).join("/");
}

export interface LogServerOptions {
  /** logging.base_log_folder. */
  baseLogFolder: string;
  /** api.secret_key, the same as the API server's; null (unset) refuses every request, saying so. */
  secretKey: string | null;
  /** The clock tokens are checked against (tests). */
  nowMs?: () => number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(`${text}\n`);
}

/** The relative path the URL names, or why it is refused. */
function requestedPath(url: string): { path: string } | { refused: string } {
  const raw = (url.split("?")[0] ?? "").slice(LOG_ROUTE_PREFIX.length);
  let parts: string[];
  try {
    parts = raw.split("/").map((p) => decodeURIComponent(p));
  } catch {
    return { refused: "The path is not valid URL encoding." };
  }
  const path = parts.join("/");
  if (path === "" || parts.some((p) => p === ""))
    return { refused: "The path is empty or has an empty component." };
  if (path.includes("\u0000")) return { refused: "The path contains NUL." };
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.startsWith("\\"))
    return { refused: "The path must be relative to the log folder." };
  if (path.split(/[/\\]/).some((p) => p === ".." || p === "."))
    return { refused: "The path must not contain . or .. components." };
  return { path };
}

/** Compared by relative path rather than by prefix, which a log folder of `/` would defeat. */
function isInside(base: string, path: string): boolean {
  const r = relative(base, path);
  return r !== "" && r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/** The first range of `Range: bytes=a-b` / `bytes=a-`, or null when absent; "bad" when unreadable. */
function parseRange(header: string | undefined): { start: number; end: number | null } | null | "bad" {
  if (header === undefined) return null;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (m === null) return "bad";
  const start = Number(m[1]);
  const end = m[2] === "" ? null : Number(m[2]);
  if (!Number.isSafeInteger(start) || (end !== null && (!Number.isSafeInteger(end) || end < start)))
    return "bad";
  return { start, end };
}

/**
 * The handler the worker's HTTP server calls for every request whose path starts with
 * LOG_ROUTE_PREFIX. Answers 400 (bad path), 401 (no, bad or expired token), 403 (a token for
 * another path), 404 (no such log), 405, 416, 200 or 206.
 */
export function logRequestHandler(o: LogServerOptions): Handler {
  const base = resolve(o.baseLogFolder);
  const now = o.nowMs ?? Date.now;
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "Only GET and HEAD.", { allow: "GET, HEAD" });
      return;
    }
    const wanted = requestedPath(req.url ?? "");
    if ("refused" in wanted) {
      send(res, 400, wanted.refused);
      return;
    }
    if (o.secretKey === null || o.secretKey === "") {
      send(
        res,
        503,
        "This worker has no api.secret_key (UPDRAFT__API__SECRET_KEY) to check log tokens with: set it to the API server's.",
      );
      return;
    }
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7).trim() : "";
    if (token === "") {
      send(res, 401, "A log token is required (Authorization: Bearer …, signed by the API server).", {
        "www-authenticate": "Bearer",
      });
      return;
    }
    let claims: Record<string, unknown>;
    try {
      claims = verifyToken(token, o.secretKey, now());
    } catch (err) {
      const why = isUpdraftError(err) ? err.message : "The token is invalid.";
      send(
        res,
        401,
        `${why} The API server and the workers must share api.secret_key (UPDRAFT__API__SECRET_KEY).`,
        { "www-authenticate": "Bearer" },
      );
      return;
    }
    if (claims["aud"] !== LOG_TOKEN_AUDIENCE || typeof claims["exp"] !== "number") {
      send(res, 401, "The token is not a log token.", { "www-authenticate": "Bearer" });
      return;
    }
    if (claims["path"] !== wanted.path) {
      send(res, 403, "The token grants another log.");
      return;
    }
    const file = await servable(base, resolve(base, wanted.path));
    if (file === null) {
      send(res, 404, `No log ${wanted.path} on this worker.`);
      return;
    }
    const range = parseRange(typeof req.headers.range === "string" ? req.headers.range : undefined);
    if (range === "bad") {
      send(res, 416, "Only one range of the form bytes=START- or bytes=START-END.", {
        "content-range": `bytes */${file.size}`,
      });
      return;
    }
    const headers: Record<string, string> = {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "accept-ranges": "bytes",
    };
    let start = 0;
    let end = file.size - 1;
    let status = 200;
    if (range !== null) {
      if (range.start >= file.size) {
        res.writeHead(416, { ...headers, "content-range": `bytes */${file.size}`, "content-length": "0" });
        res.end();
        return;
      }
      start = range.start;
      end = Math.min(range.end ?? file.size - 1, file.size - 1);
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
    }
    headers["content-length"] = String(Math.max(0, end - start + 1));
    res.writeHead(status, headers);
    if (req.method === "HEAD" || end < start) {
      res.end();
      return;
    }
    const stream = createReadStream(file.path, { start, end });
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  };
}

/** The real file and its size when it is a regular file inside `base` (also after following links). */
async function servable(base: string, file: string): Promise<{ path: string; size: number } | null> {
  if (!isInside(base, file)) return null;
  try {
    const [real, realBase] = await Promise.all([realpath(file), realpath(base)]);
    if (!isInside(realBase, real)) return null;
    const s = await stat(real);
    return s.isFile() ? { path: real, size: s.size } : null;
  } catch {
    return null;
  }
}
