// GET /api/v1/dagSources/{file_token}: the code of a DAG file, stored by the DAG processor's sync
// in dag_code and served from the database only. The token in DAG replies is signed: a tampered,
// forged or foreign token, `../` or NUL never reaches a file (404 or a 4xx validation problem).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fileTokens } from "../../src/api/file-token.js";
import { signToken } from "../../src/common/signed-token.js";
import { DagFileProcessor } from "../../src/processor/index.js";
import { syncDagBag } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { cleanupTempDirs, copyFixture, tempDir } from "../helpers.js";
import {
  API_TOKEN,
  SECRET,
  seedUserWithToken,
  startTestServer,
  tokenFor,
  type TestServer,
} from "./helpers.js";

const admin = { authorization: `Bearer ${API_TOKEN}` };

withTestDatabases("DAG sources API", (getDb) => {
  let t: TestServer;
  let folder: string;
  let processor: DagFileProcessor;
  let fileloc: string;
  const sync = async () => {
    await syncDagBag(getDb().db, await processor.refresh(), { pausedAtCreation: false });
  };
  beforeAll(async () => {
    t = await startTestServer(getDb());
    await seedUserWithToken(getDb(), "src-viewer", "Viewer", "token-src-viewer");
    folder = copyFixture("dags-good");
    processor = new DagFileProcessor(folder, {
      cacheDir: tempDir(),
      timeoutSeconds: 20,
      parsingProcesses: 1,
    });
    await sync();
    fileloc = join(folder, "example.ts");
  });
  afterAll(async () => {
    await processor.close();
    await t.server.close();
    cleanupTempDirs();
  });
  const get = (url: string, headers: Record<string, string> = admin) =>
    t.server.app.inject({ method: "GET", url, headers });
  const source = (token: string, headers: Record<string, string> = admin) =>
    get(`/api/v1/dagSources/${encodeURIComponent(token)}`, headers);
  const tokenOf = async (): Promise<string> => (await get("/api/v1/dags/example")).json().file_token;

  it("stores the code at parse time and gives the same file_token in every DAG reply", async () => {
    const row = await getDb()
      .db.selectFrom("dag_code")
      .selectAll()
      .where("fileloc", "=", fileloc)
      .executeTakeFirstOrThrow();
    expect(row.source_code).toBe(readFileSync(fileloc, "utf8"));
    expect(row.source_hash).toMatch(/^[0-9a-f]{64}$/);
    const token = await tokenOf();
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const list = (await get("/api/v1/dags"))
      .json()
      .dags.find((d: { dag_id: string }) => d.dag_id === "example");
    expect(list.file_token).toBe(token);
    expect((await get("/api/v1/dags/example/details")).json().file_token).toBe(token);
  });

  it("answers the code as JSON {content} or text/plain by Accept, to a Viewer too", async () => {
    const token = await tokenOf();
    const json = await source(token, { authorization: "Bearer token-src-viewer" });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ content: readFileSync(fileloc, "utf8") });
    const text = await source(token, { ...admin, accept: "text/plain" });
    expect(text.headers["content-type"]).toContain("text/plain");
    expect(text.body).toBe(readFileSync(fileloc, "utf8"));
  });

  it("serves what the database holds, not the file, until the next sync", async () => {
    const token = await tokenOf();
    const before = readFileSync(fileloc, "utf8");
    writeFileSync(fileloc, `${before}\n// changed after parsing\n`);
    expect((await source(token)).json().content).toBe(before);
    await sync();
    expect((await source(token)).json().content).toBe(`${before}\n// changed after parsing\n`);
  });

  it("answers 404 for a tampered, forged or foreign token and never reads the path it names", async () => {
    const token = await tokenOf();
    const [body = "", sig = ""] = token.split(".");
    const flipped = `${body}.${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    const otherBody = Buffer.from(JSON.stringify({ fileloc: "/etc/passwd" })).toString("base64url");
    const cases = {
      flipped,
      "body swapped": `${otherBody}.${sig}`,
      "wrong key": signToken({ fileloc }, "not-the-server-secret-0123456789"),
      // Signed with the server's own secret, as task tokens are: still not a file token.
      "task token": tokenFor({ dag_id: "example", run_id: "r", task_id: "t", map_index: -1 }, 1).token,
      "raw server secret": signToken({ fileloc }, SECRET),
      garbage: "x".repeat(2000),
    };
    for (const [name, bad] of Object.entries(cases)) {
      const res = await source(bad);
      expect(res.statusCode, name).toBe(404);
      expect(res.headers["content-type"], name).toContain("application/problem+json");
      expect(res.body, name).not.toContain("root:");
    }
    // Validly signed, but for a file whose code is not stored: still 404, no file is read.
    const real = await source(fileTokens(SECRET).sign("/etc/passwd"));
    expect(real.statusCode).toBe(404);
    expect(real.body).not.toContain("root:");
    expect((await source(fileTokens(SECRET).sign(fileloc))).statusCode).toBe(200);
  });

  it("refuses `../` and NUL in the token as bad input, not as a file name", async () => {
    for (const bad of ["../../../../etc/passwd", "..", "a\u0000b.c", `${await tokenOf()}\u0000`]) {
      const res = await source(bad);
      expect([400, 404, 422], JSON.stringify(bad)).toContain(res.statusCode);
      expect(res.body).not.toContain("root:");
    }
  });

  it("forgets the code of a deleted DAG file (404)", async () => {
    const token = await tokenOf();
    rmSync(fileloc);
    await sync();
    const gone = await getDb()
      .db.selectFrom("dag_code")
      .select("fileloc")
      .where("fileloc", "=", fileloc)
      .executeTakeFirst();
    expect(gone).toBeUndefined();
    expect((await source(token)).statusCode).toBe(404);
  });
});
