// The DAG page's Gantt, Calendar and Durations tabs in Chromium against a real standalone, after one
// run of data_pipeline_lab: a success bar per task with a tooltip and a link to the Grid; today's
// calendar cell counting the success; the four uPlot charts drawn with the run's numbers (read
// from their accessible tables). Screenshots 30-gantt, 31-calendar, 32-durations (+ dark).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone } from "./standalone.js";

const missing = browserMissing();
const DAG = "data_pipeline_lab";
const TASKS = ["generate_data", "validate", "aggregate", "notify"];
let ui: UiStandalone;
let runId: string;
let firstRunId: string;

describe.skipIf(missing !== null)("Gantt, Calendar and Durations in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start();
    // Two runs, so that the Durations charts draw lines; the Gantt shows the newest.
    firstRunId = await ui.runToEnd(DAG);
    runId = await ui.runToEnd(DAG);
  }, 300_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("the Gantt shows a success bar per task, a tooltip with the times, and opens the task in the Grid", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/${DAG}/gantt`);
    await page.waitForSelector('.gantt-bar.run[data-state="success"]');
    const bars = await page
      .locator(".gantt-bar.run")
      .evaluateAll((els) => els.map((e) => [e.getAttribute("data-task"), e.getAttribute("data-state")]));
    expect(bars).toEqual(TASKS.map((t) => [t, "success"]));
    // The run picker defaults to the newest run, which is ours.
    expect(await page.inputValue('select[aria-label="Run"]')).toBe(runId);
    // Keyboard focus shows the tooltip (the same as hovering).
    const validate = page.locator(".gantt-hit", { has: page.locator('[data-task="validate"]') }).first();
    await validate.focus();
    const tip = page.locator(".gantt-tip");
    await expect.poll(() => tip.textContent()).toContain("Ran for");
    expect(await tip.textContent()).toContain("validate");
    expect(await validate.getAttribute("aria-label")).toMatch(/^validate, try 1: success, .*ran \d/);
    await shot(page, "30-gantt");
    // The picker shows the other run's Gantt.
    await page.selectOption('select[aria-label="Run"]', firstRunId);
    await page.waitForURL((u) => u.searchParams.get("run") === firstRunId);
    await expect.poll(() => page.locator('.gantt-bar.run[data-state="success"]').count()).toBe(4);
    await validate.focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/grid\?/);
    const url = new URL(page.url());
    expect([url.searchParams.get("run"), url.searchParams.get("task")]).toEqual([firstRunId, "validate"]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("the Calendar counts today's success, says so to the keyboard and opens the day's runs", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/${DAG}/calendar`);
    const today = new Date().toISOString().slice(0, 10);
    const cell = page.locator(`.cal-day[data-date="${today}"]`);
    await cell.and(page.locator('[data-outcome="success"]')).waitFor();
    expect(Number(await cell.getAttribute("data-success"))).toBeGreaterThanOrEqual(1);
    expect(await cell.getAttribute("aria-label")).toMatch(/: 2 success$/);
    // Today's cell is the grid's one tab stop; arrows move to yesterday and back.
    await cell.focus();
    await expect.poll(() => page.locator(".cal-tip").textContent()).toContain("2 runs — 2 success");
    await page.keyboard.press("ArrowUp");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-date"))).not.toBe(today);
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-date"))).toBe(today);
    await shot(page, "31-calendar");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/browse\/runs\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get("dag_id")).toBe(DAG);
    // The UTC day's bounds, as Browse's datetime-local filters take them (the browser's zone).
    expect(new Date(url.searchParams.get("from") ?? "").toISOString()).toBe(`${today}T00:00:00.000Z`);
    expect(new Date(url.searchParams.get("to") ?? "").toISOString()).toBe(`${today}T23:59:59.999Z`);
    // Browse lists that day's two runs of the DAG.
    await expect.poll(() => page.locator("tr[data-run]").count(), { timeout: 10_000 }).toBe(2);
    // Last year: no runs, every day empty.
    await page.goto(`${ui.url}/dags/${DAG}/calendar?year=${new Date().getUTCFullYear() - 1}`);
    await page.waitForSelector(".cal-day[data-date]");
    expect(await page.locator('.cal-grid .cal-day:not([data-outcome="none"])').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("the Durations charts draw the run's duration, each task's duration, landing time and tries", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/${DAG}/durations`);
    await page.waitForSelector('figure[data-chart="task-tries"] canvas');
    expect(await page.locator(".duration-canvas canvas").count()).toBe(4);
    const table = (id: string) =>
      page.locator(`table[data-chart="${id}"]`).evaluate((t) => ({
        head: Array.from(t.querySelectorAll("thead th")).map((th) => th.textContent),
        rows: Array.from(t.querySelectorAll("tbody tr")).map((tr) =>
          Array.from(tr.querySelectorAll("td")).map((td) => td.getAttribute("data-value")),
        ),
      }));
    const positive = (v: string | null | undefined) =>
      v !== null && v !== undefined && v !== "" && Number(v) > 0;
    const run = await table("run-duration");
    expect(run.rows).toHaveLength(2);
    expect(run.rows.map((r) => positive(r[0]))).toEqual([true, true]);
    for (const id of ["task-duration", "landing-times", "task-tries"]) {
      const t = await table(id);
      expect(t.head.slice(1)).toEqual(TASKS);
      expect(t.rows).toHaveLength(2);
      expect(t.rows.flat().every(positive), `${id}: ${JSON.stringify(t.rows)}`).toBe(true);
    }
    expect((await table("task-tries")).rows).toEqual([
      ["1", "1", "1", "1"],
      ["1", "1", "1", "1"],
    ]);
    expect(await page.locator('figure[data-chart="run-duration"]').getAttribute("data-points")).toBe("2");
    expect(await page.locator('figure[data-chart="task-duration"] .u-axis').count()).toBeGreaterThan(0);
    // Dropping a task from the picker drops its series.
    await page.click('label.duration-task:has-text("notify") input');
    await expect.poll(async () => (await table("task-duration")).head.slice(1)).toEqual(TASKS.slice(0, 3));
    await page.click('label.duration-task:has-text("notify") input');
    await shot(page, "32-durations");
    await page.click("text=☾ Dark");
    await page.waitForSelector('figure[data-chart="task-tries"] canvas');
    await shot(page, "32b-durations-dark");
    await page.click("text=☀ Light");
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
