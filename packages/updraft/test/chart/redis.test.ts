// The chart's Redis runs for real, outside Kubernetes: redis-server with the container's command
// line from `helm template`, $(REDIS_PASSWORD) expanded from the rendered Secret as the kubelet
// would, on a free port of this machine instead of the Pod's own 6379. The broker URL the chart
// gives the scheduler and the workers must open it (with Updraft's own Redis options), its
// readiness probe must pass, and a client without the password must be refused.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisOptions } from "../../src/queue/index.js";
import { freePort } from "../redis-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { container, decoded, type Container } from "./manifests.js";
import { find, render, type Manifest } from "./render.js";

const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedisServer && process.env["CI"] !== "true") {
  console.warn("SKIPPED the chart's Redis run: redis-server is not installed on this machine.");
}
// In CI redis-server must be there (.ci/run starts it): the suite runs and fails without it.
const describeRun = hasRedisServer || process.env["CI"] === "true" ? describe : describe.skip;

/** The container's variables, secretKeyRefs resolved from the rendered Secrets. */
function resolvedEnv(ms: Manifest[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref === undefined ? (e.value ?? "") : decoded(find(ms, "Secret", ref.name))[ref.key]!;
  }
  return env;
}

/** Kubernetes' $(VAR) expansion of command and args. */
const expand = (arg: string, env: Record<string, string>) =>
  arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => env[name] ?? all);

afterAll(() => cleanupTempDirs());

describeRun("the chart's Redis, run with its rendered command line", () => {
  // A password that needs escaping in a URL: the broker URL must still carry it exactly.
  const password = 'p@ss w+rd:/"x%';
  let ms: Manifest[];
  let port: number;
  let server: ChildProcess | undefined;
  let redis: Container;
  let env: Record<string, string>;

  beforeAll(async () => {
    const dir = tempDir("updraft-chart-redis-");
    const values = join(dir, "values.yaml");
    writeFileSync(values, stringify({ executor: "QueueExecutor", redis: { password } }));
    ms = render([values]);
    redis = container(find(ms, "StatefulSet", "airflow-redis"), "redis");
    env = resolvedEnv(ms, redis);
    port = await freePort();
    const argv = [...(redis.command ?? []), ...(redis.args ?? [])].map((a) => expand(a, env));
    expect(argv[0]).toBe("redis-server");
    server = spawn(argv[0]!, [...argv.slice(1), "--port", String(port), "--bind", "127.0.0.1"], {
      stdio: "ignore",
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
      if (r.stdout.includes("PONG") || r.stdout.includes("NOAUTH")) break;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer in 10 s`);
      await new Promise((res) => setTimeout(res, 50));
    }
  });

  afterAll(async () => {
    const s = server;
    if (s === undefined || s.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      s.once("close", () => resolve());
      s.kill("SIGKILL");
    });
  });

  it("requires the password from the Secret", () => {
    expect(env["REDIS_PASSWORD"]).toBe(password);
    const anonymous = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" });
    expect(anonymous.stdout).toContain("NOAUTH");
  });

  it("passes its readiness probe (redis-cli with REDISCLI_AUTH)", () => {
    const command = redis.readinessProbe?.exec?.command ?? [];
    expect(command.slice(0, 2)).toEqual(["sh", "-c"]);
    // The probe talks to the Pod's 6379; here the server listens on `port`.
    const script = command[2]!.replace("-h 127.0.0.1", `-h 127.0.0.1 -p ${port}`);
    const ok = spawnSync("sh", ["-c", script], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    const wrong = spawnSync("sh", ["-c", script], {
      env: { ...process.env, REDISCLI_AUTH: "wrong" },
      encoding: "utf8",
    });
    expect(wrong.status).not.toBe(0);
  });

  it("is opened by the broker URL the scheduler and workers get, with Updraft's Redis options", async () => {
    const url = new URL(decoded(find(ms, "Secret", "airflow-broker-url"))["connection"]!);
    expect(url.hostname).toBe("airflow-redis.airflow.svc");
    url.hostname = "127.0.0.1";
    url.port = String(port);
    const options = redisOptions({
      broker_url: url.toString(),
      key_prefix: "updraft",
      tls_ca_file: null,
      tls_cert_file: null,
      tls_key_file: null,
      tls_reject_unauthorized: true,
    });
    expect(options.password).toBe(password);
    const client = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      expect(await client.ping()).toBe("PONG");
      // No persistence by default: nothing saved, no append-only file.
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
      expect(await client.config("GET", "save")).toEqual(["save", ""]);
    } finally {
      client.disconnect();
    }
  });
});
