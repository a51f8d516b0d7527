// The worker's log server on a real HTTP server on loopback: a log is served only with a token
// signed for exactly its path, only from inside the log folder, whole or by byte range.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signToken } from "../../src/common/signed-token.js";
import { logRequestHandler, logUrlPath, signLogToken } from "../../src/worker/log-server.js";

const SECRET = "log-server-secret-0123456789";
const REL = "dag_id=d/run_id=manual__2024-01-01T00:00:00+00:00/task_id=t%2Fx/attempt=1.log";
const TEXT = "line 1\nline 2\nlast line\n";

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

describe("worker log server", () => {
  let server: Server;
  let port = 0;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "updraft-log-server-"));
    const base = join(root, "logs");
    mkdirSync(dirname(join(base, REL)), { recursive: true });
    writeFileSync(join(base, REL), TEXT);
    writeFileSync(join(root, "secret.txt"), "outside the log folder\n");
    symlinkSync(join(root, "secret.txt"), join(base, "escape.log"));
    const handler = logRequestHandler({ baseLogFolder: base, secretKey: SECRET });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  /** A request with the path exactly as given (no URL normalisation, so `..` reaches the server). */
  function get(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            headers: res.headers,
          }),
        );
      });
      req.on("error", reject);
      req.end();
    });
  }
  const bearer = (rel: string, secret = SECRET) => ({ authorization: `Bearer ${signLogToken(rel, secret)}` });

  it("serves a log file with a token for its path, whole and by byte range", async () => {
    const whole = await get(logUrlPath(REL), bearer(REL));
    expect(whole.status).toBe(200);
    expect(whole.body).toBe(TEXT);
    expect(whole.headers["accept-ranges"]).toBe("bytes");
    const part = await get(logUrlPath(REL), { ...bearer(REL), range: "bytes=7-12" });
    expect(part.status).toBe(206);
    expect(part.body).toBe("line 2");
    expect(part.headers["content-range"]).toBe(`bytes 7-12/${TEXT.length}`);
    const tail = await get(logUrlPath(REL), { ...bearer(REL), range: "bytes=14-" });
    expect(tail.body).toBe("last line\n");
    const past = await get(logUrlPath(REL), { ...bearer(REL), range: `bytes=${TEXT.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers["content-range"]).toBe(`bytes */${TEXT.length}`);
  });

  it("refuses a missing, malformed, expired or foreign token with 401, another path's with 403", async () => {
    expect((await get(logUrlPath(REL))).status).toBe(401);
    expect((await get(logUrlPath(REL), { authorization: "Bearer nonsense" })).status).toBe(401);
    const wrongKey = await get(logUrlPath(REL), bearer(REL, "another-secret-key-0123456789"));
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body).toContain("api.secret_key");
    const expired = signLogToken(REL, SECRET, Date.now() - 3_600_000);
    expect((await get(logUrlPath(REL), { authorization: `Bearer ${expired}` })).status).toBe(401);
    // An execution token (same key, no log audience) grants no log.
    const execution = signToken({ ti: {}, try_number: 1, exp: Math.floor(Date.now() / 1000) + 60 }, SECRET);
    expect((await get(logUrlPath(REL), { authorization: `Bearer ${execution}` })).status).toBe(401);
    const other = await get(logUrlPath(REL), bearer("dag_id=d/other.log"));
    expect(other.status).toBe(403);
  });

  it("refuses everything, saying why, on a worker without api.secret_key", async () => {
    const handler = logRequestHandler({ baseLogFolder: root, secretKey: null });
    const bare = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", r));
    try {
      const res = await fetch(
        `http://127.0.0.1:${(bare.address() as { port: number }).port}${logUrlPath(REL)}`,
        { headers: bearer(REL) },
      );
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("no api.secret_key");
    } finally {
      await new Promise((r) => bare.close(r));
    }
  });

  it("refuses .., NUL, absolute paths and links out of the folder, even with a token for them", async () => {
    const cases: [string, string][] = [
      ["/log/../secret.txt", "../secret.txt"],
      ["/log/%2e%2e/secret.txt", "../secret.txt"],
      ["/log/dag_id=d/..%2F..%2Fsecret.txt", "dag_id=d/../../secret.txt"],
      ["/log/a%00b.log", "a\u0000b.log"],
      [`/log/${encodeURIComponent(join(root, "secret.txt"))}`, join(root, "secret.txt")],
      ["/log/%E0%A4%A", "x"],
    ];
    for (const [path, rel] of cases) {
      const res = await get(path, bearer(rel));
      expect(res.status, `${path}: ${res.body}`).toBe(400);
      expect(res.body).not.toContain("outside the log folder");
    }
    const link = await get("/log/escape.log", bearer("escape.log"));
    expect(link.status).toBe(404);
    expect(link.body).not.toContain("outside the log folder");
    const missing = await get(logUrlPath("dag_id=d/none.log"), bearer("dag_id=d/none.log"));
    expect(missing.status).toBe(404);
    expect((await get(logUrlPath(REL), bearer(REL), "POST")).status).toBe(405);
  });
});
