// RELIABILITY.md item 5, lighter form: every connection to the metadata database is terminated
// (pg_terminate_backend) while a 50-task run is in progress, four times. The API server and the
// scheduler reconnect, no transition is half-applied, and the run completes with every task body
// run exactly once. The PostgreSQL server itself is not restarted.
// The run advances a fifth at a time: steps 2 and later wait for a gate file the test creates
// after each round, so the run cannot end before the four rounds however fast the engine is or
// however long a round waits for the components to reconnect (a faster engine once finished the
// run between two rounds). Tasks waiting at a gate run, and heartbeat, through the terminations.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { Cluster, describeWithPostgres } from "./harness.js";

const DAG_ID = "pg_terminate_50";
const CHAINS = 5;
const STEPS = 10;
const TOTAL = CHAINS * STEPS;

const DAG_SOURCE = `
import { appendFileSync, existsSync } from "node:fs";
import { chain, dag, task } from "updraft";

export default dag({ dagId: "${DAG_ID}", schedule: null, startDate: "2026-01-01" }, () => {
  for (let c = 0; c < ${CHAINS}; c++) {
    const steps = [];
    for (let s = 0; s < ${STEPS}; s++) {
      steps.push(
        task("c" + c + "_s" + s, async (ctx) => {
          const gate = process.env.RELIABILITY_MARKER! + ".gate" + Math.floor(s / 2);
          while (s >= 2 && !existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 20));
          appendFileSync(process.env.RELIABILITY_MARKER!, ctx.ti.task_id + " " + ctx.ti.try_number + "\\n");
          await new Promise((resolve) => setTimeout(resolve, 40 + Math.floor(Math.random() * 40)));
        })(),
      );
    }
    chain(...steps);
  }
});
`;

await describeWithPostgres("reliability: database connections terminated mid-run", () => {
  let cluster: Cluster;
  let marker: string;

  beforeAll(async () => {
    // One slot per chain: a chain's task waiting at a gate must not keep another chain from
    // reaching it.
    cluster = await Cluster.create({ UPDRAFT__CORE__PARALLELISM: String(CHAINS) });
    marker = join(cluster.home, "marker.txt");
    cluster.writeDag("pg_terminate.ts", DAG_SOURCE);
    cluster.reserialize();
    await cluster.start({ RELIABILITY_MARKER: marker });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  const lines = (): string[] =>
    existsSync(marker)
      ? readFileSync(marker, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];

  /** How many other backends are connected to the test database. */
  async function connected(): Promise<number> {
    const rows = await cluster.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? 0;
  }

  /** Terminates every other backend connected to the test database; returns how many. */
  async function terminateAll(): Promise<number> {
    const rows = await cluster.query<{ terminated: boolean }>(
      `select pg_terminate_backend(pid) as terminated from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()`,
    );
    return rows.filter((r) => r.terminated).length;
  }

  test("the components reconnect and the run completes, each body once", async () => {
    const started = Date.now();
    cluster.trigger(DAG_ID, "r");
    const terminated: number[] = [];
    for (const [i, fraction] of [0.2, 0.4, 0.6, 0.8].entries()) {
      await eventually(
        () => (lines().length >= TOTAL * fraction ? true : undefined),
        30_000,
        `${fraction * 100} % of the bodies`,
      ).catch(async (err: Error) => {
        throw new Error(
          `${err.message}; ${lines().length} bodies ran; task instances: ${await cluster.summary(DAG_ID, "r")}\n${cluster.logs()}`,
        );
      });
      expect(lines().length, "the run was still in progress").toBeLessThan(TOTAL);
      // The API server and the scheduler each hold pool connections and a LISTEN connection; after
      // the previous round they reconnect (the LISTEN one with backoff), so wait until both are
      // back before the next round: on a loaded CI machine the round could otherwise find none.
      // Pooled connections also close when idle, so a backend counted a moment ago may be gone
      // when the terminate runs: a round terminates until two or more went down.
      let round = 0;
      await eventually(
        async () => {
          if ((await connected()) < 2) return undefined;
          round += await terminateAll();
          return round >= 2 ? true : undefined;
        },
        20_000,
        "reconnected components to terminate",
      );
      terminated.push(round);
      // The next fifth of the run may go on.
      writeFileSync(`${marker}.gate${i + 1}`, "");
    }
    for (const n of terminated) expect(n, "backends terminated").toBeGreaterThanOrEqual(2);

    const state = await eventually(
      async () => {
        const s = await cluster.runState(DAG_ID, "r");
        return s === "success" || s === "failed" ? s : undefined;
      },
      40_000,
      `the end of the run`,
    ).catch(async (err: Error) => {
      const stuck = (await cluster.tis(DAG_ID, "r")).filter((t) => t.state !== "success" && t.state !== null);
      throw new Error(
        `${err.message}; ${lines().length} bodies ran; task instances: ${await cluster.summary(DAG_ID, "r")}; not finished: ${JSON.stringify(stuck)}\n${cluster.logs()}`,
      );
    });
    const tis = await cluster.tis(DAG_ID, "r");
    expect(state, `${JSON.stringify(tis.filter((t) => t.state !== "success"))}\n${cluster.logs()}`).toBe(
      "success",
    );
    expect(tis).toHaveLength(TOTAL);
    expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);

    // No half-applied transition: each task instance has exactly one history row, its successful
    // try, and each body ran exactly once.
    const history = await cluster.history(DAG_ID, "r");
    expect(history.map((h) => `${h.task_id} ${h.try_number} ${h.state}`).sort()).toEqual(
      tis.map((t) => `${t.task_id} 1 success`).sort(),
    );
    const body = lines();
    expect(body.sort()).toEqual(tis.map((t) => `${t.task_id} 1`).sort());

    // Both components are still serving after the terminations.
    const health = (await (await fetch(`${cluster.apiUrl}/api/v1/health`)).json()) as {
      metadatabase: { status: string };
    };
    expect(health.metadatabase.status).toBe("healthy");
    console.log(
      `[database-connections] terminated ${terminated.join(" + ")} backends; run finished ${((Date.now() - started) / 1000).toFixed(1)} s after the trigger`,
    );
  }, 60_000);
});
