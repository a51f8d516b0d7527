// Issue 13's pages in a real browser against a real `updraft standalone`:
// - the task instance page lists a try's reschedules: a sensor in mode "reschedule" pokes until its
//   moment, and its page shows one row per poke that was not done, as
//   GET …/taskInstances/{task_id}/reschedules returns them;
// - Browse › Assets lists an asset with the task that updates it and the DAG scheduled on it, and
//   its update with the extra and the asset-triggered run it made.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone, until } from "./standalone.js";

const missing = browserMissing();
const DAG = "reschedule_probe";
let ui: UiStandalone;
let runId = "";

interface Reschedules {
  task_reschedules: { try_number: number; start_date: string; reschedule_date: string }[];
  total_entries: number;
}

describe.skipIf(missing !== null)("reschedules and assets pages in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start({ fixtures: ["reschedule_probe.ts", "asset_probe.ts"] });
    runId = await ui.runToEnd(DAG);
  }, 300_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("a sensor's pokes that were not done are listed with their times under its try", async () => {
    const r = await ui.apiJson<Reschedules>(
      `/api/v1/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances/wait/reschedules`,
    );
    expect(r.total_entries).toBeGreaterThanOrEqual(1);
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/${DAG}/runs/${encodeURIComponent(runId)}/tasks/wait`);
    await page.waitForSelector(".ti-head .badge.state-success");
    const table = page.locator(".reschedules table");
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).toBe(r.total_entries);
    expect(await page.locator(".reschedules h3").textContent()).toContain(`(${r.total_entries})`);
    expect(await table.locator("thead").textContent()).toContain("Poke again at");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("Browse › Assets: the asset, its producer and consumer, and its update with the run it triggered", async () => {
    await ui.apiJson(`/api/v1/dags/asset_consumer`, "PATCH", { is_paused: false });
    await ui.runToEnd("asset_producer");
    const uri = "s3://probe/orders.parquet";
    await until(
      "the consumer's asset-triggered run",
      async () =>
        (
          await ui.apiJson<{ dag_runs: { run_type: string }[] }>(`/api/v1/dags/asset_consumer/dagRuns`)
        ).dag_runs.some((r) => r.run_type === "asset_triggered"),
      60_000,
    );
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/browse/assets`);
    const row = page.locator(`tr[data-asset="${uri}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("asset_producer.load");
    expect(await row.textContent()).toContain("asset_consumer");
    expect(await row.textContent()).toContain("probe orders");
    await row.locator("button").click();
    await page.waitForURL(/asset_id=/);
    await page.waitForSelector("h2 >> text=Updates of s3://probe/orders.parquet");
    const update = page.locator(`tr[data-asset-event="${uri}"]`).first();
    await update.waitFor();
    expect(await update.textContent()).toContain('{"rows":42}');
    await update.locator("[data-triggered-run^='asset_triggered__']").waitFor();
    await shot(page, "59-browse-assets");
    expect(errors).toEqual([]);
    await context.close();
  });
});
