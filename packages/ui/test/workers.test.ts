// The Workers page (Browse → Workers) in Chromium against a real `updraft standalone` whose
// core.executor is the QueueExecutor: a worker written into the real Redis with the workers' own
// writeHeartbeat appears with its queues, running/total and state, and a second one appears
// without a reload (the page polls). Screenshot 70 in test-artifacts.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { writeHeartbeat, type WorkerHeartbeat } from "../../updraft/src/queue/index.js";
import { describeWithRedis, testKeyPrefix, TEST_REDIS_URL } from "../../updraft/test/redis-testing.js";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone, VIEWER } from "./standalone.js";

const missing = browserMissing();
const prefix = testKeyPrefix();

function heartbeat(id: string, over: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    id,
    hostname: id.split(":")[0] ?? id,
    pid: 4242,
    queues: ["default"],
    concurrency: 4,
    state: "running",
    running: [],
    tries_finished: 0,
    version: "0.1.0",
    server_url: null,
    started_at: new Date().toISOString(),
    ...over,
  };
}

describeWithRedis("Workers page", () => {
  describe.skipIf(missing !== null)("in Chromium", () => {
    let ui: UiStandalone;
    let redis: Redis;
    beforeAll(async () => {
      redis = new Redis(TEST_REDIS_URL);
      // The standalone's API server reads the registry under this file's key prefix.
      process.env["UPDRAFT__CORE__EXECUTOR"] = "QueueExecutor";
      process.env["UPDRAFT__QUEUE__BROKER_URL"] = TEST_REDIS_URL;
      process.env["UPDRAFT__QUEUE__KEY_PREFIX"] = prefix;
      ui = await UiStandalone.start();
    }, 180_000);
    afterAll(async () => {
      await ui?.stop();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    test("shows a worker from Redis with its queues, load and state, and new ones as they heartbeat", async () => {
      await writeHeartbeat(
        redis,
        prefix,
        heartbeat("gpu-box-1:4242:ab", {
          queues: ["default", "gpu"],
          concurrency: 8,
          capacity: 3,
          running: [{ dag_id: "train", run_id: "r1", task_id: "fit", map_index: -1, try_number: 1 }],
          tries_finished: 12,
        }),
      );
      const { context, page, errors } = await ui.page();
      await ui.login(page, VIEWER.username, VIEWER.password);
      await page.goto(`${ui.url}/browse/runs`);
      await page.click('nav[aria-label="Browse sections"] >> text=Workers');
      await page.waitForURL(/\/browse\/workers/);
      const row = page.locator('tr[data-worker="gpu-box-1:4242:ab"]');
      await row.waitFor();
      const text = (await row.textContent()) ?? "";
      expect(text).toContain("gpu-box-1");
      expect(text).toContain("gpu");
      expect(text).toContain("1 / 8");
      // Its capacity (tries it can start now) below its concurrency is shown under it.
      expect(text).toContain("3 ready");
      expect(await row.locator('td[title^="3 of 8 can start now"]').count()).toBe(1);
      expect(text).toContain("running");
      expect(await row.locator(".worker-mark").textContent()).toBe("●");

      // A draining worker appears at the next poll, without a reload.
      await writeHeartbeat(
        redis,
        prefix,
        heartbeat("etl-box-2:7:cd", { queues: ["etl"], state: "draining" }),
      );
      const second = page.locator('tr[data-worker="etl-box-2:7:cd"]');
      await second.waitFor({ timeout: 15_000 });
      expect(await second.textContent()).toContain("draining");
      // No capacity reported (an older worker): its concurrency, nothing more to say.
      expect(await second.textContent()).not.toContain("ready");
      expect(await second.locator(".worker-mark").textContent()).toBe("◐");
      await shot(page, "70-workers");
      expect(errors).toEqual([]);
      await context.close();
    });
  });
});
