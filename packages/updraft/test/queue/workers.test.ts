// The QueueExecutor with real `updraft worker` processes (issue 12): two workers on different
// queues, a worker SIGKILLed mid-try (retried exactly once), SIGTERM drains, --max-tasks recycles.
// PostgreSQL, Redis, api-server and scheduler are real processes (the reliability harness).
import { copyFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { EXAMPLES, eventually } from "../e2e/helpers.js";
import { Daemon, describeWithPostgres, type Cluster } from "../reliability/harness.js";
import { Redis } from "ioredis";
import { listWorkers } from "../../src/queue/index.js";
import { describeWithRedis, TEST_REDIS_URL } from "../redis-testing.js";
import {
  childPids,
  exitOf,
  join,
  MARKER_DAGS,
  markerLines,
  queueCluster,
  runSucceeds,
  startWorker,
} from "./queue-cluster.js";

await describeWithPostgres("QueueExecutor with worker processes", () => {
  describeWithRedis("queue workers", () => {
    let cluster: Cluster;
    let marker: string;

    beforeAll(async () => {
      cluster = await queueCluster();
      marker = join(cluster.home, "marker.txt");
      for (const [file, source] of Object.entries(MARKER_DAGS(marker))) cluster.writeDag(file, source);
      copyFileSync(join(EXAMPLES, "data_pipeline_lab.ts"), join(cluster.dagsFolder, "data_pipeline_lab.ts"));
      cluster.reserialize();
      await Promise.all([
        cluster.start(),
        startWorker(cluster, ["--queues", "default", "--concurrency", "4"], { WORKER_TAG: "w-default" }),
        startWorker(cluster, ["--queues", "gpu", "--concurrency", "2"], { WORKER_TAG: "w-gpu" }),
      ]);
    }, 90_000);

    afterAll(async () => {
      await cluster?.close();
    });

    test("two workers on different queues run data_pipeline_lab and a DAG that uses both queues", async () => {
      cluster.trigger("data_pipeline_lab", "lab");
      cluster.trigger("two_queues", "r");
      await runSucceeds(cluster, "data_pipeline_lab", "lab");
      await runSucceeds(cluster, "two_queues", "r");
      expect(markerLines(marker).filter((l) => /^[abc] /.test(l))).toEqual([
        "a w-default",
        "b w-gpu",
        "c w-default",
      ]);
      const tis = await cluster.tis("data_pipeline_lab", "lab");
      expect(tis.map((t) => [t.task_id, t.state, t.try_number])).toEqual([
        ["aggregate", "success", 1],
        ["generate_data", "success", 1],
        ["notify", "success", 1],
        ["validate", "success", 1],
      ]);
    }, 60_000);

    test("a deferrable sensor on the QueueExecutor: it defers (its worker slot freed), a triggerer fires it, it resumes on a worker as the same try", async () => {
      const triggerer = new Daemon(["triggerer"], cluster.env);
      cluster.daemons.push(triggerer);
      await triggerer.waitFor(/Triggerer started/, 30_000);
      cluster.trigger("deferred_on_queue", "d1");
      await eventually(
        async () =>
          (await cluster.tis("deferred_on_queue", "d1")).find((t) => t.task_id === "wait")?.state ===
          "deferred"
            ? true
            : undefined,
        30_000,
        `the sensor to defer\n${cluster.logs()}`,
      );
      await runSucceeds(cluster, "deferred_on_queue", "d1");
      const tis = await cluster.tis("deferred_on_queue", "d1");
      expect(tis.map((t) => [t.task_id, t.state, t.try_number])).toEqual([
        ["after", "success", 1],
        ["wait", "success", 1],
      ]);
      expect(markerLines(marker, "after ")).toEqual(["after w-default"]);
    }, 90_000);

    test("a task on a queue no worker serves waits, and the API says why", async () => {
      cluster.cli([
        "users",
        "create",
        "--username",
        "viewer",
        "--email",
        "v@example.com",
        "--role",
        "Viewer",
        "--password",
        "queue-viewer-1",
      ]);
      cluster.trigger("lonely", "r");
      const basic = `Basic ${Buffer.from("viewer:queue-viewer-1").toString("base64")}`;
      const url = `${cluster.apiUrl}/api/v1/dags/lonely/dagRuns/r/taskInstances/on_gpu2/dependencies`;
      const reason = await eventually(
        async () => {
          const res = await fetch(url, { headers: { authorization: basic } });
          if (!res.ok) return undefined;
          const body = (await res.json()) as { dependencies: { name: string; reason: string }[] };
          return body.dependencies.find((d) => /no worker serves queue gpu2/i.test(d.reason))?.reason;
        },
        20_000,
        `the dependencies to name queue gpu2\n${cluster.logs()}`,
      );
      expect(reason).toMatch(/live workers serve .*default.*gpu|live workers serve .*gpu.*default/);
      expect(reason).toContain("updraft worker --queues gpu2");
      const [ti] = await cluster.tis("lonely", "r");
      expect(["scheduled", "queued"]).toContain(ti?.state);
    }, 40_000);

    test("a worker SIGKILLed mid-try: the try is retried exactly once, on another worker", async () => {
      const v1 = await startWorker(cluster, ["--queues", "victim", "--concurrency", "1"], {
        WORKER_TAG: "v1",
      });
      cluster.trigger("victim", "r");
      await eventually(
        () => (markerLines(marker, "victim ").length === 1 ? true : undefined),
        30_000,
        `try 1 to start\n${cluster.logs()}`,
      );
      await v1.kill();
      await startWorker(cluster, ["--queues", "victim", "--concurrency", "1"], { WORKER_TAG: "v2" });
      await runSucceeds(cluster, "victim", "r", 45_000);
      expect(markerLines(marker, "victim ")).toEqual(["victim 1 v1", "victim 2 v2"]);
      const history = await cluster.history("victim", "r");
      expect(history.map((h) => [h.try_number, h.state])).toEqual([
        [1, "up_for_retry"],
        [2, "success"],
      ]);
      // Settled by the executor's registry check (the worker stopped heartbeating), or by the
      // runner's own heartbeat timeout when that came first: either way once.
      expect(history[0]?.error ?? "").toMatch(/worker .*(is gone|stopped)|heartbeat/i);
    }, 60_000);

    test("a worker killed after taking a try but before starting it: another worker runs it, same try, once", async () => {
      const n1 = await startWorker(cluster, ["--queues", "nostart", "--concurrency", "1"], {
        WORKER_TAG: "n1",
      });
      // Its warm runner is stopped: the workload the worker takes is handed to it and never started.
      const stopped = childPids(n1.pid);
      expect(stopped.length).toBeGreaterThan(0);
      for (const pid of stopped) process.kill(pid, "SIGSTOP");
      cluster.trigger("nostart", "r");
      const redis = new Redis(TEST_REDIS_URL);
      try {
        await eventually(
          async () => {
            const records = await listWorkers(redis, String(cluster.env["UPDRAFT__QUEUE__KEY_PREFIX"]), 60);
            const mine = records.find((r) => r.pid === n1.pid);
            return mine?.running.some((t) => t.task_id === "once") === true ? true : undefined;
          },
          30_000,
          `worker n1 to take the try\n${cluster.logs()}`,
        );
      } finally {
        redis.disconnect();
      }
      const [ti] = await cluster.tis("nostart", "r");
      expect([ti?.state, ti?.try_number]).toEqual(["queued", 1]);
      for (const pid of childPids(n1.pid)) process.kill(pid, "SIGKILL");
      await n1.kill();
      await startWorker(cluster, ["--queues", "nostart", "--concurrency", "1"], { WORKER_TAG: "n2" });
      await runSucceeds(cluster, "nostart", "r", 45_000);
      expect(markerLines(marker, "nostart ")).toEqual(["nostart 1 n2"]);
      const history = await cluster.history("nostart", "r");
      expect(history.map((h) => [h.try_number, h.state])).toEqual([[1, "success"]]);
      expect(cluster.logs(10_000_000)).toMatch(/lost before it started is queued again/);
    }, 60_000);

    test("--concurrency 8 runs eight long tries at once, beyond the runner pool it starts with", async () => {
      await startWorker(cluster, ["--queues", "wide", "--concurrency", "8"], { WORKER_TAG: "wide" });
      cluster.trigger("wide", "r");
      await runSucceeds(cluster, "wide", "r");
      expect(markerLines(marker, "wide start")).toHaveLength(8);
    }, 90_000);

    test("SIGTERM drains: the running try finishes, no new one is taken, exit 0", async () => {
      const d1 = await startWorker(cluster, ["--queues", "drain", "--concurrency", "1"], {
        WORKER_TAG: "d1",
      });
      cluster.trigger("drain", "r");
      await eventually(
        () => (markerLines(marker, "drain start").length === 1 ? true : undefined),
        30_000,
        `a drain task to start\n${cluster.logs()}`,
      );
      d1.child.kill("SIGTERM");
      expect(await exitOf(d1, 20_000)).toBe(0);
      const d1Lines = markerLines(marker, "drain ").filter((l) => l.endsWith(" d1"));
      expect(d1Lines).toHaveLength(2);
      expect(d1Lines[0]).toMatch(/^drain start s\d d1$/);
      expect(d1Lines[1]).toBe(d1Lines[0]?.replace("start", "end"));
      expect(d1.output).toMatch(/stopped after 1 tries/);
      await startWorker(cluster, ["--queues", "drain", "--concurrency", "1"], { WORKER_TAG: "d2" });
      await runSucceeds(cluster, "drain", "r");
      expect(markerLines(marker, "drain start")).toHaveLength(2);
    }, 60_000);

    test("--max-tasks recycles: the worker exits 0 after its tries, another takes the rest", async () => {
      const r1 = await startWorker(
        cluster,
        ["--queues", "recycle", "--concurrency", "1", "--max-tasks", "2"],
        {
          WORKER_TAG: "r1",
        },
      );
      cluster.trigger("recycle", "r");
      expect(await exitOf(r1, 30_000)).toBe(0);
      const byR1 = markerLines(marker, "recycle ").filter((l) => l.includes(" r1 "));
      expect(byR1.length).toBeGreaterThanOrEqual(2);
      await startWorker(cluster, ["--queues", "recycle", "--concurrency", "2"], { WORKER_TAG: "r2" });
      await runSucceeds(cluster, "recycle", "r");
      expect(markerLines(marker, "recycle ")).toHaveLength(4);
    }, 60_000);

    test("a scheduler restarted between two losses of a try before it started: the second loss uses the try up", async () => {
      const prefix = String(cluster.env["UPDRAFT__QUEUE__KEY_PREFIX"]);
      const redis = new Redis(TEST_REDIS_URL);
      /** A worker whose runners are stopped: it takes the try and never starts it. */
      const stalledWorker = async (tag: string) => {
        const w = await startWorker(cluster, ["--queues", "nostart_twice", "--concurrency", "1"], {
          WORKER_TAG: tag,
        });
        for (const pid of childPids(w.pid)) process.kill(pid, "SIGSTOP");
        return w;
      };
      const tookIt = (w: Daemon) =>
        eventually(
          async () => {
            const mine = (await listWorkers(redis, prefix, 60)).find((r) => r.pid === w.pid);
            return mine?.running.some((t) => t.task_id === "once") === true ? true : undefined;
          },
          30_000,
          `worker ${w.pid} to take the try\n${cluster.logs()}`,
        );
      const killWithRunners = async (w: Daemon) => {
        for (const pid of childPids(w.pid)) process.kill(pid, "SIGKILL");
        await w.kill();
      };
      try {
        const before = cluster.daemons.find((d) => d.args[0] === "scheduler" && d.child.exitCode === null);
        expect(before).toBeDefined();
        const n1 = await stalledWorker("t1");
        cluster.trigger("nostart_twice", "r");
        await tookIt(n1);
        await killWithRunners(n1);
        await before?.waitFor(/lost before it started is queued again [^\n]*dag_id=nostart_twice/, 30_000);
        // The scheduler restarts (SIGTERM takes its untaken jobs back). The next worker to take
        // the try dies before starting it as well.
        before?.child.kill("SIGTERM");
        await exitOf(before as Daemon, 30_000);
        const n2 = await stalledWorker("t2");
        const after = await cluster.startScheduler();
        await tookIt(n2);
        await killWithRunners(n2);
        const ti = await eventually(
          async () => {
            const [row] = await cluster.tis("nostart_twice", "r");
            return row?.state === "failed" ? row : undefined;
          },
          30_000,
          `the try to fail after its second loss\n${cluster.logs()}`,
        );
        expect(ti.try_number).toBe(1);
        expect(after.output).not.toMatch(/lost before it started is queued again/);
        expect(markerLines(marker, "nostart_twice ")).toEqual([]);
        expect((await cluster.history("nostart_twice", "r")).map((h) => [h.try_number, h.state])).toEqual([
          [1, "failed"],
        ]);
      } finally {
        redis.disconnect();
      }
    }, 90_000);
  });
});
