// Object storage run for real (issue 13, decision 0032): the S3 operators, S3KeySensor and
// S3ToGCSOperator each run in a runner forked by the LocalExecutor from dist/runner/main.js
// against the API server (on PGlite), talking to s3rver (an S3-compatible server from npm) and
// to the GCS fake (test/storage/gcs-fake.ts) over loopback HTTP, through connections created
// with the REST API. Run `npm run build` first.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import { openS3 } from "../../src/hooks/s3.js";
import { s3KeyTrigger } from "../../src/triggerer/builtin/s3-key.js";
import type { Connection } from "../../src/sdk/context.js";
import type { S3HookImpl } from "../../src/sdk/storage-hooks.js";

import { openTestPGlite } from "../db-testing.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { startExecutionApi, type ExecutionApiHarness } from "../runner/execution-api-harness.js";
import { addConnection as addConnectionVia, tryHarness } from "../runner/executor-harness.js";
import { startGcsFake, type GcsFake } from "./gcs-fake.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/storage_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-02-03T00:00:00+00:00";
const DS = "2026-02-03";
const BIG_MB = 100;

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
let s3server: S3rver;
let s3: S3HookImpl;
let s3Conn: Connection;
let gcs: GcsFake;
const events: ExecutorEvent[] = [];

const { key, start, finish, run, logShows } = tryHarness({
  api: () => api,
  executor: () => executor,
  events,
  dagFile: DAG_FILE,
  runId: RUN,
  timeoutMs: 120_000,
});
const addConnection = (conn: Record<string, unknown>) => addConnectionVia(api, conn);

/** Child processes of this test process (the runners the LocalExecutor forked), recursively. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let children = "";
    try {
      children = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8");
    } catch {
      continue;
    }
    for (const c of children.split(" ").filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

/** The peak resident memory (VmHWM, bytes) of the runner processes alive now. */
function runnerPeakRss(): number {
  let peak = 0;
  for (const pid of descendants(process.pid)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("runner/main.js")) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      if (hwm !== undefined) peak = Math.max(peak, Number(hwm) * 1024);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return peak;
}

/** `mb` MiB of varied bytes (a counter pattern per chunk), generated as they are read. */
function generated(mb: number, md5: ReturnType<typeof createHash>): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i === mb) return void this.push(null);
      const chunk = Buffer.alloc(1024 * 1024);
      for (let off = 0; off < chunk.length; off += 4) chunk.writeUInt32LE((i * 262_144 + off / 4) >>> 0, off);
      md5.update(chunk);
      i++;
      this.push(chunk);
    },
  });
}

/** Runs a task of s3_to_gcs while sampling the runners' peak RSS. */
async function runSampled(taskId: string) {
  const w = await start("s3_to_gcs", taskId);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, runnerPeakRss())), 20);
  try {
    const r = await finish(w);
    return { run: r, peak };
  } finally {
    clearInterval(sampler);
  }
}

beforeAll(async () => {
  if (!existsSync(RUNNER))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  const home = tempDir("updraft-storage-");
  s3server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: tempDir("updraft-s3rver-"),
  });
  const { port } = await s3server.run();
  gcs = await startGcsFake(tempDir("updraft-gcs-"));
  const s3conn = {
    connection_id: "s3",
    conn_type: "aws",
    login: "S3RVER",
    password: "S3RVER",
    extra: { endpoint_url: `http://127.0.0.1:${port}`, region_name: "us-east-1" },
  };
  const conn: Connection = {
    conn_id: "s3",
    conn_type: "aws",
    host: null,
    schema: null,
    login: "S3RVER",
    password: "S3RVER",
    port: null,
    extra: s3conn.extra,
    getUri: () => "aws://",
  };
  s3 = openS3(conn);
  s3Conn = conn;
  for (const b of ["raw", "landing", "big"]) await s3.createBucket(b);
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home, heartbeatIntervalS: 0.5 });
  await api.loadDagFile(DAG_FILE);
  await addConnection(s3conn);
  await addConnection({
    connection_id: "gcs",
    conn_type: "google_cloud_platform",
    extra: { project: "updraft-test", api_endpoint: gcs.url, anonymous: true },
  });
  await fetch(`${gcs.url}/storage/v1/b?project=updraft-test`, {
    method: "POST",
    body: JSON.stringify({ name: "lake" }),
  });
  for (const dagId of ["s3_ops", "s3_to_gcs"]) await api.triggerRun(dagId, RUN, `${DS}T00:00:00Z`);
  const quiet = () => undefined;
  executor = new LocalExecutor({
    parallelism: 2,
    env: { ...process.env, UPDRAFT_HOME: home },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  executor.onEvent((e) => events.push(e));
  await executor.start();
}, 60_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await api?.close();
  await database?.close();
  await s3?.close();
  await s3server?.close();
  await gcs?.close();
  cleanupTempDirs();
});

describe("S3 operators against s3rver", () => {
  it("creates an object from a template, refuses to overwrite it without replace, copies and lists", async () => {
    expect((await run("s3_ops", "create")).ti.state).toBe("success");
    expect(await s3.readKey(`sales/${DS}/a.csv`, "raw")).toBe(`day,amount\n${DS},42\n`);
    const again = await run("s3_ops", "create_again");
    expect(again.ti.state).toBe("failed");
    expect(again.log).toContain(`The key s3://raw/sales/${DS}/a.csv exists already. Set replace: true`);
    expect(await s3.readKey(`s3://raw/sales/${DS}/a.csv`)).toBe(`day,amount\n${DS},42\n`);
    expect((await run("s3_ops", "copy")).ti.state).toBe("success");
    expect(await s3.readKey(`sales/${DS}/b.csv`, "raw")).toBe(`day,amount\n${DS},42\n`);
    const list = await run("s3_ops", "list");
    expect(list.ti.state).toBe("success");
    expect(await list.xcom()).toEqual([`sales/${DS}/a.csv`, `sales/${DS}/b.csv`]);
    await s3.loadString("x", "top.txt", "raw");
    // With a delimiter, keys below a "folder" are not listed: only the top-level key is.
    expect(await (await run("s3_ops", "list_folders")).xcom()).toEqual(["top.txt"]);
    expect(await s3.listPrefixes("raw", "sales/", "/")).toEqual([`sales/${DS}/`]);
    expect(await (await run("s3_ops", "list_wildcard")).xcom()).toEqual([`sales/${DS}/b.csv`]);
  });

  it("S3KeySensor pokes until every key of its list has a wildcard match", async () => {
    await s3.loadString("a", `sales/${DS}/c.csv`, "raw", { replace: true });
    const w = await start("s3_ops", "wait_keys");
    await logShows(w, "Poke 2: not yet");
    await s3.loadString("{}", `late/${DS}/x.json`, "raw");
    const r = await finish(w);
    expect(r.ti.state).toBe("success");
    expect(r.log).toContain(`Poking for keys: s3://raw/sales/${DS}/*.csv, s3://raw/late/${DS}/*.json`);
    expect(r.log).toMatch(/Success criteria met after \d+ poke/);
  });

  it("the S3 key trigger (deferrable S3KeySensor) waits in the triggerer until every key has a match", async () => {
    const abort = new AbortController();
    const fired = s3KeyTrigger(
      {
        awsConnId: "s3",
        bucketName: "raw",
        bucketKey: ["deferred/*.csv"],
        wildcardMatch: true,
        pokeIntervalS: 0.05,
      },
      {
        db: database.db,
        connection: (id) => (id === "s3" ? Promise.resolve(s3Conn) : Promise.reject(new Error(id))),
        signal: abort.signal,
        log: () => undefined,
      },
    );
    let settled = false;
    void fired.finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await s3.loadString("x", "deferred/one.csv", "raw");
    await expect(fired).resolves.toEqual({ status: "success", files: ["deferred/one.csv"] });
  });

  it("S3KeySensor's checkFn decides on the matches' metadata; softFail skips on timeout", async () => {
    await s3.loadString("small", "sizes/a.bin", "raw");
    const w = await start("s3_ops", "wait_big_enough");
    await logShows(w, "Poke 2: not yet");
    await s3.loadString("x".repeat(2000), "sizes/b.bin", "raw");
    expect((await finish(w)).ti.state).toBe("success");
    const never = await run("s3_ops", "wait_never");
    expect(never.ti.state).toBe("skipped");
    expect(never.log).toContain("Sensor has timed out");
  });

  it("S3DeleteObjectsOperator deletes a prefix's keys or listed keys and pushes what it deleted", async () => {
    const del = await run("s3_ops", "delete_prefix");
    expect(del.ti.state).toBe("success");
    expect(await del.xcom()).toEqual([`sales/${DS}/a.csv`, `sales/${DS}/b.csv`, `sales/${DS}/c.csv`]);
    expect(await s3.listKeys("raw", { prefix: "sales/" })).toEqual([]);
    expect((await run("s3_ops", "delete_keys")).ti.state).toBe("success");
    expect(await s3.checkForKey(`late/${DS}/x.json`, "raw")).toBe(false);
  });

  it("ctx.hooks.s3 and ctx.hooks.gcs work from TaskFlow code; a wrong conn_type names both types", async () => {
    const r = await run("s3_ops", "hooks");
    expect(r.ti.state).toBe("success");
    expect(await r.xcom()).toEqual({ text: `from ${DS}`, s3: ["hooks/note.txt"], gcs: ["hooks/note.txt"] });
    const wrong = await run("s3_ops", "hook_wrong_type");
    expect(wrong.ti.state).toBe("failed");
    expect(wrong.log).toContain(
      'Connection "gcs" has conn_type "google_cloud_platform", but the S3 hook needs "aws"',
    );
  });
});

describe("S3ToGCSOperator against s3rver and the GCS fake", () => {
  it("copies the keys under a prefix, skips those GCS has unless replace, and pushes the copied keys", async () => {
    await s3.loadString("one", "in/a.csv", "landing");
    await s3.loadString("two", "in/sub/b.csv", "landing");
    await s3.loadString("zzz", "other/c.csv", "landing");
    const first = await run("s3_to_gcs", "to_gcs");
    expect(first.ti.state).toBe("success");
    expect(await first.xcom()).toEqual(["in/a.csv", "in/sub/b.csv"]);
    const a = gcs.objects.get(`lake/${DS}/in/a.csv`);
    expect(a && readFileSync(a.path, "utf8")).toBe("one");
    expect(gcs.objects.has(`lake/${DS}/other/c.csv`)).toBe(false);
    // The uploads were resumable (streamed), not simple uploads of a buffer.
    expect(gcs.requests).toContain("POST /upload/storage/v1/b/lake/o?uploadType=resumable");

    await s3.loadString("three", "in/d.csv", "landing");
    const api2 = await api.queueTry(key("s3_to_gcs", "to_gcs"), DAG_FILE);
    executor.queueWorkload(api2);
    const second = await finish(api2);
    expect(second.ti.state).toBe("success");
    expect(await second.xcom()).toEqual(["in/d.csv"]);
    expect(second.log).toContain("Skipping 2 key(s) that exist in gs://lake/");

    const flat = await run("s3_to_gcs", "to_gcs_prefix");
    expect(await flat.xcom()).toEqual(["in/a.csv", "in/d.csv"]);
    expect([...gcs.objects.keys()].filter((k) => k.startsWith("lake/flat/")).sort()).toEqual([
      "lake/flat/a.csv",
      "lake/flat/d.csv",
    ]);
  });

  it(`streams a ${BIG_MB} MiB object from S3 to GCS with the runner's memory well below its size`, async () => {
    // The baseline: the same operator in a fresh runner copying one small object.
    await s3.loadString("x".repeat(1024), "small/one.bin", "big");
    const small = await runSampled("small");
    expect(await small.run.xcom()).toEqual(["small/one.bin"]);
    const md5 = createHash("md5");
    await s3.loadStream(generated(BIG_MB, md5), "dump.bin", "big");
    const expectedMd5 = md5.digest("base64");
    const big = await runSampled("big");
    expect(big.run.ti.state).toBe("success");
    expect(await big.run.xcom()).toEqual(["dump.bin"]);
    const stored = gcs.objects.get("lake/big/dump.bin");
    expect(stored?.size).toBe(BIG_MB * 1024 * 1024);
    expect(stored?.md5).toBe(expectedMd5);
    // Figures to report, not timings: the runners' peak RSS (VmHWM sampled from /proc).
    const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
    console.log(
      `S3ToGCSOperator runner peak RSS: ${mib(big.peak)} MiB copying ${BIG_MB} MiB, ${mib(small.peak)} MiB copying 1 KiB (+${mib(big.peak - small.peak)} MiB)`,
    );
    expect(small.peak).toBeGreaterThan(0);
    // Holding the object whole would add at least its size. Streaming adds buffers and the
    // garbage the collector has not taken yet: 20-40 MiB measured, the same for 250 MiB.
    expect(big.peak - small.peak).toBeLessThan(BIG_MB * 1024 * 1024 * 0.75);
  }, 240_000);
});
