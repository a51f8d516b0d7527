// The task instance page and the actions in a real browser against a real `updraft standalone`:
// the notify task's page with its log (search, highlight) and XComs, clearing a task with its
// downstream from the dry-run preview and watching the run succeed again, marking a task failed
// from its preview, a Viewer without action buttons (and the API refusing anyway), and a log line
// with markup shown as text, and why a waiting task is not running. Screenshots 40-task,
// 41-clear-preview, 42-log-search, 43-task-dark, 44-task-why.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone, until, VIEWER, XSS } from "./standalone.js";

const missing = browserMissing();
const DAG = "data_pipeline_lab";
let ui: UiStandalone;
let runId = "";
let probeRun = "";

const tiUrl = (dagId: string, run: string, taskId: string) =>
  `${ui.url}/dags/${dagId}/runs/${encodeURIComponent(run)}/tasks/${taskId}`;

interface Ti {
  state: string | null;
  try_number: number;
}
const tiOf = (taskId: string) =>
  ui.apiJson<Ti>(`/api/v1/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${taskId}`);

async function logText(page: Page): Promise<string> {
  return (await page.locator(".log-lines").textContent()) ?? "";
}

describe.skipIf(missing !== null)("the task instance page and actions in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start({ fixtures: ["deadline_probe.ts"] });
    [runId, probeRun] = await Promise.all([ui.runToEnd(DAG), ui.runToEnd("xss_probe")]);
  }, 300_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("the notify task's page shows its header, its log with search, and the XComs; the Grid panel links to it", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    // From the Grid's panel to the full page.
    await page.goto(`${ui.url}/dags/${DAG}/grid?run=${encodeURIComponent(runId)}&task=notify`);
    await page.click("a.open-ti");
    await page.waitForURL(/\/runs\/.+\/tasks\/notify$/);
    await page.waitForSelector(".ti-head .badge.state-success");
    await expect.poll(() => logText(page), { timeout: 20_000 }).toContain("PIPELINE COMPLETE - NOTIFICATION");
    const facts = (await page.locator(".ti-facts").textContent()) ?? "";
    expect(facts).toContain("1 of");
    expect(facts).toContain("default_pool");
    expect(await page.locator(".why").count()).toBe(0);
    expect(await page.locator(".tries .try").count()).toBe(1);
    await shot(page, "40-task");

    // Search: three category lines, Enter moves to the next, the matches are highlighted.
    await page.fill("input.log-search", "category");
    await expect.poll(() => page.locator(".log-matches").textContent()).toBe("1 of 3");
    await page.press("input.log-search", "Enter");
    await expect.poll(() => page.locator(".log-matches").textContent()).toBe("2 of 3");
    expect(await page.locator(".log-line mark").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator(".log-line.current mark").textContent()).toBe("Category");
    await page.press("input.log-search", "Shift+Enter");
    await expect.poll(() => page.locator(".log-matches").textContent()).toBe("1 of 3");
    await page.check(".log-toggle input");
    await shot(page, "42-log-search");
    // The dark theme, as the toggle sets it.
    await page.click("text=☾ Dark");
    await page.waitForSelector("html[data-theme=dark]");
    await shot(page, "43-task-dark");

    // The aggregate task's XCom: its return value as text.
    await page.goto(tiUrl(DAG, runId, "aggregate"));
    await page.waitForSelector('[data-xcom-key="return_value"]');
    const xcom = (await page.locator('[data-xcom-key="return_value"] pre').textContent()) ?? "";
    expect(JSON.parse(xcom)).toHaveProperty("A");
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  test("clearing validate with downstream previews validate, aggregate, notify; confirming runs them again to success", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(tiUrl(DAG, runId, "validate"));
    await page.click('button:has-text("Clear…")');
    await page.waitForSelector('.dialog[aria-label="Clear validate"]');
    expect(await page.locator('.dialog input[name="downstream"]').isChecked()).toBe(true);
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(3);
    const listed = await page
      .locator(".affected-list li")
      .evaluateAll((lis) => lis.map((li) => li.getAttribute("data-task")));
    expect(listed.sort()).toEqual(["aggregate", "notify", "validate"]);
    // Upstream adds generate_data to the preview; unticking takes it away again.
    await page.check('.dialog input[name="upstream"]');
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(4);
    await page.uncheck('.dialog input[name="upstream"]');
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(3);
    await shot(page, "41-clear-preview");
    // Enter confirms (the focus is on an option, not a button).
    await page.focus('.dialog input[name="downstream"]');
    await page.keyboard.press("Enter");
    await page.waitForSelector(".dialog", { state: "detached" });
    await until(
      "validate's second try and the run's success",
      async () => {
        const [v, n, run] = await Promise.all([
          tiOf("validate"),
          tiOf("notify"),
          ui.apiJson<{ state: string }>(`/api/v1/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}`),
        ]);
        return v.try_number === 2 && n.try_number === 2 && run.state === "success";
      },
      120_000,
    );
    expect((await tiOf("generate_data")).try_number).toBe(1);
    // The page follows: two tries now.
    await page.goto(tiUrl(DAG, runId, "validate"));
    await expect.poll(() => page.locator(".tries .try").count(), { timeout: 20_000 }).toBe(2);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  test("marking a task failed shows what it marks, Escape cancels, and confirming marks it", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(tiUrl(DAG, runId, "notify"));
    await page.click('button:has-text("Mark failed…")');
    await page.waitForSelector('.dialog[aria-label="Mark notify failed"]');
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(1);
    // Escape closes without marking.
    await page.keyboard.press("Escape");
    await page.waitForSelector(".dialog", { state: "detached" });
    expect((await tiOf("notify")).state).toBe("success");
    await page.click('button:has-text("Mark failed…")');
    await expect.poll(() => page.locator(".affected-list li[data-task=notify]").count()).toBe(1);
    await page.click('.dialog button:has-text("Mark failed")');
    await page.waitForSelector(".dialog", { state: "detached" });
    await until("notify to be failed", async () => (await tiOf("notify")).state === "failed");
    await page.waitForSelector(".ti-head .badge.state-failed");
    // The run's clear lists every task instance of the run; Cancel leaves them be.
    await page.click('button:has-text("Clear run…")');
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(4);
    await page.check('.dialog input[name="onlyFailed"]');
    await expect.poll(() => page.locator(".affected-list li").count()).toBe(1);
    await page.click('.dialog button:has-text("Cancel")');
    await page.waitForSelector(".dialog", { state: "detached" });
    expect((await tiOf("notify")).state).toBe("failed");
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("a Viewer sees the page without action buttons, and the API refuses a clear anyway", async () => {
    const { context, page } = await ui.page();
    await ui.login(page, VIEWER.username, VIEWER.password);
    await page.goto(tiUrl(DAG, runId, "aggregate"));
    await expect.poll(() => logText(page), { timeout: 20_000 }).toContain("Aggregation results");
    expect(await page.locator(".action-bar").count()).toBe(0);
    expect(await page.locator('button:has-text("Clear")').count()).toBe(0);
    const status = await page.evaluate(async (run) => {
      const csrf = /(?:^|; )updraft_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? "";
      const res = await fetch("/api/v1/dags/data_pipeline_lab/clearTaskInstances", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
        body: JSON.stringify({ dry_run: false, dag_run_id: run, task_ids: ["aggregate"] }),
      });
      return res.status;
    }, runId);
    expect(status).toBe(403);
    await context.close();
  }, 60_000);

  test("a task of a paused DAG's queued run says why it is not running", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await ui.apiJson("/api/v1/dags/xss_probe", "PATCH", { is_paused: true });
    const run = await ui.apiJson<{ dag_run_id: string }>("/api/v1/dags/xss_probe/dagRuns", "POST", {});
    await page.goto(tiUrl("xss_probe", run.dag_run_id, "shout"));
    await page.waitForSelector(".why li");
    expect(await page.locator(".why").textContent()).toContain("Dag Not Paused");
    expect(await page.locator(".why").textContent()).toContain("is paused");
    expect(await page.locator(".ti-section").first().textContent()).toContain("Not started yet");
    await shot(page, "44-task-why");
    // Deleting the run from its dialog (the confirm button has the focus: Enter deletes).
    await page.click('button:has-text("Delete run…")');
    await page.waitForSelector(`.dialog[aria-label="Delete run ${run.dag_run_id}"]`);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/dags\/xss_probe\/grid$/);
    const gone = await ui.api(`/api/v1/dags/xss_probe/dagRuns/${encodeURIComponent(run.dag_run_id)}`);
    expect(gone.status).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("a log line with markup shows as text and never runs", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(tiUrl("xss_probe", probeRun, "shout"));
    await expect.poll(() => logText(page), { timeout: 20_000 }).toContain(`log line ${XSS}`);
    // Searching for the markup highlights it as text too.
    await page.fill("input.log-search", "<img");
    await expect.poll(() => page.locator(".log-matches").textContent()).toBe("1 of 1");
    expect(await page.locator(".log-lines img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("the run panel lists the run's missed deadline and SLA miss", async () => {
    const run = await ui.runToEnd("deadline_probe");
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/deadline_probe/grid?run=${encodeURIComponent(run)}`);
    const section = page.locator('section[aria-label="Deadlines and SLA misses"]');
    await section.waitFor({ timeout: 20_000 });
    await expect.poll(() => section.locator('li[data-deadline="missed"]').count()).toBe(1);
    await expect.poll(() => section.locator('li[data-sla-miss="slow"]').count()).toBe(1);
    expect(await section.textContent()).toContain("after the run was queued");
    await shot(page, "45-run-deadlines");
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
