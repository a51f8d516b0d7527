// The task instance page lists a try's reschedules in a real browser against a real
// `updraft standalone`: a sensor in mode "reschedule" pokes until its moment, and its page shows
// one row per poke that was not done, as GET …/taskInstances/{task_id}/reschedules returns them.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { UiStandalone } from "./standalone.js";

const missing = browserMissing();
const DAG = "reschedule_probe";
let ui: UiStandalone;
let runId = "";

interface Reschedules {
  task_reschedules: { try_number: number; start_date: string; reschedule_date: string }[];
  total_entries: number;
}

describe.skipIf(missing !== null)("reschedules on the task instance page in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start({ fixtures: ["reschedule_probe.ts"] });
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
});
