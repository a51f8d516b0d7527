// OpenTelemetry traces end to end, with real parts: the whole engine of `updraft standalone`
// (DAG processor, scheduler, LocalExecutor with real runner processes, API server) on in-memory
// PGlite runs a DAG whose second task fails, with traces.otel_on and traces.otel_host/otel_port
// pointing at a plain node:http server on loopback that decodes the OTLP/HTTP JSON it receives.
// The run is one trace: its root span is the run, each try a child span with its state. Run
// `npm run build` first: runners are forked from dist/.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import type { Database } from "../../src/db/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";

const DAG = `import { dag, task } from "updraft";
export default dag({ dagId: "traced", defaultArgs: { retries: 0 } }, () => {
  const ok = task("ok", () => 1);
  const bad = task("bad", () => {
    throw new Error("fails on purpose");
  });
  ok().before(bad());
});
`;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  startMs: number;
  endMs: number;
  attrs: Record<string, string | number | boolean>;
}

const valueOf = (v: OtlpValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? ""));

let server: Server;
let engine: Engine;
let database: Database;
let t: TestEngine;
const spans: Span[] = [];
const paths: string[] = [];
const runId = "manual__traced";

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      paths.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      let raw = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      const body = JSON.parse(raw.toString("utf8")) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const rs of body.resourceSpans) {
        const service = String(
          valueOf(rs.resource.attributes.find((a) => a.key === "service.name")?.value ?? {}),
        );
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              name: s.name,
              service,
              startMs: Number(BigInt(s.startTimeUnixNano) / 1_000_000n),
              endMs: Number(BigInt(s.endTimeUnixNano) / 1_000_000n),
              attrs: Object.fromEntries(s.attributes.map((a) => [a.key, valueOf(a.value)])),
            });
      }
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  t = await startTestEngine({
    name: "otel",
    files: { "traced.ts": DAG },
    env: { UPDRAFT__TRACES__OTEL_ON: "true", UPDRAFT__TRACES__OTEL_PORT: String(port) },
    overrides: {
      "core.dags_are_paused_at_creation": false,
      "traces.otel_host": "127.0.0.1",
      "traces.otel_service": "updraft-test",
    },
  });
  ({ engine, database } = t);
  await triggerDagRun(database.db, { dagId: "traced", runId }, { events: engine.events });
}, 120_000);

afterAll(async () => {
  await t?.stop();
  server?.close();
});

it("exports the run as a trace whose root span is the run and whose children are the tries", async () => {
  const end = Date.now() + 60_000;
  const find = () => {
    const run = spans.find((s) => s.name === "traced" && s.parentSpanId === "");
    const ok = spans.find((s) => s.attrs["task_id"] === "ok");
    const bad = spans.find((s) => s.attrs["task_id"] === "bad");
    return run && ok && bad ? { run, ok, bad } : undefined;
  };
  while (find() === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  const found = find();
  if (found === undefined) throw new Error(`spans received: ${JSON.stringify(spans)}`);
  const { run, ok, bad } = found;
  expect(paths[0]).toMatch(/^POST \/v1\/traces application\/json/);
  expect(run.service).toBe("updraft-test");
  expect(run.attrs).toMatchObject({ dag_id: "traced", run_id: runId, state: "failed" });
  expect(ok.attrs).toEqual({
    dag_id: "traced",
    task_id: "ok",
    run_id: runId,
    map_index: -1,
    try_number: 1,
    state: "success",
  });
  expect(bad.attrs).toMatchObject({ task_id: "bad", try_number: 1, state: "failed" });
  for (const t of [ok, bad]) {
    expect(t.traceId).toBe(run.traceId);
    expect(t.parentSpanId).toBe(run.spanId);
    expect(t.endMs).toBeGreaterThanOrEqual(t.startMs);
  }
  // The tries lie inside the run, and ok ran before bad. A span's end is the reporting process's
  // clock and its start that minus the duration the database measured: allow for the difference.
  const slack = 500;
  expect(ok.endMs).toBeLessThanOrEqual(bad.startMs + slack);
  expect(run.startMs).toBeLessThanOrEqual(ok.startMs + slack);
  expect(run.endMs).toBeGreaterThanOrEqual(bad.endMs - slack);
  // One span per try and one for the run.
  expect(spans.filter((s) => s.traceId === run.traceId)).toHaveLength(3);
});
