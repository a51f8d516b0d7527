// The web UI in a real browser against a real `updraft standalone` (the built binary, the example
// DAGs and an XSS probe DAG): login, the DAGs list, pause, trigger from the params form, the run
// in the Grid with its task log, a Viewer without controls nor Admin (and the API refusing
// anyway), the asset condition an asset-scheduled DAG runs on, markup
// from DAG files shown as text, and the headers. Screenshots go to packages/ui/test-artifacts.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone, until, VIEWER, waitForCell, XSS } from "./standalone.js";
import { EXAMPLE_DAG_IDS } from "../../updraft/test/e2e/helpers.js";

const missing = browserMissing();
let ui: UiStandalone;

async function isPaused(dagId: string): Promise<boolean> {
  return ((await (await ui.api(`/api/v1/dags/${dagId}`)).json()) as { is_paused: boolean }).is_paused;
}

/** Opens a DAG's trigger form from the list, fills the note, submits; resolves on the Grid. */
async function triggerFromList(page: Page, dagId: string, note: string): Promise<string> {
  await page.goto(`${ui.url}/dags`);
  await page.click(`button[aria-label="Trigger ${dagId}"]`);
  await page.waitForSelector(".dialog form");
  await page.click(".dialog summary");
  await page.fill("#trigger-note", note);
  return submitTrigger(page, dagId);
}

async function submitTrigger(page: Page, dagId: string): Promise<string> {
  await page.click('.dialog button[type="submit"]');
  await page.waitForURL(new RegExp(`/dags/${dagId}/grid\\?run=`));
  return new URL(page.url()).searchParams.get("run") ?? "";
}

describe.skipIf(missing !== null)("the web UI in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start({ fixtures: ["wide_asset_condition.ts"] });
  }, 180_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("serves the UI with a strict CSP, immutable hashed assets and SPA paths; unknown API paths still need login", async () => {
    const index = await fetch(`${ui.url}/`);
    expect(index.status).toBe(200);
    const csp = index.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    // No inline script: every <script> has a src.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? "";
    const js = await fetch(`${ui.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const deep = await fetch(`${ui.url}/dags/data_pipeline_lab/grid?run=x`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(`${ui.url}/api/v1/no-such-route`)).status).toBe(401);
  });

  test("an admin logs in, sees the DAGs, pauses and unpauses, triggers from the form and watches the run succeed in the Grid", async () => {
    const { context, page, errors } = await ui.page();
    await page.goto(`${ui.url}/`);
    await page.waitForSelector("input[name=username]");
    await shot(page, "01-login");
    await ui.login(page);
    const ids = await page
      .locator("table.dags tr[data-dag-id]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-dag-id")));
    expect(ids).toEqual([...EXAMPLE_DAG_IDS, "wide_asset_condition", "xss_probe"]);
    // The import errors banner: the file and its message, as text.
    await page.click('section[aria-label="Import errors"] button');
    const banner = (await page.locator('section[aria-label="Import errors"]').textContent()) ?? "";
    expect(banner).toContain("1 DAG file failed to load");
    expect(banner).toContain("broken_dag.ts");
    expect(banner).toContain(`broken on purpose ${XSS}`);
    await shot(page, "02a-import-errors");
    await page.click('section[aria-label="Import errors"] button');

    // Pause toggles, checked against the API.
    expect(await isPaused("xss_probe")).toBe(true);
    await page.click('input[aria-label="Unpause xss_probe"]');
    await until("xss_probe unpaused", async () => !(await isPaused("xss_probe")));
    await page.click('input[aria-label="Pause xss_probe"]');
    await until("xss_probe paused", async () => await isPaused("xss_probe"));
    for (const dagId of ["xss_probe", "data_pipeline_lab"]) {
      await page.click(`input[aria-label="Unpause ${dagId}"]`);
      await until(`${dagId} unpaused`, async () => !(await isPaused(dagId)));
    }
    await shot(page, "02-dags");

    const runId = await triggerFromList(page, "data_pipeline_lab", "triggered from the UI test");
    expect(runId).not.toBe("");
    for (const task of ["generate_data", "validate", "aggregate", "notify"])
      await waitForCell(page, runId, task, "success");
    await page.click(`.grid-cell[data-run="${runId}"][data-task="notify"]`);
    await page.waitForSelector(".log");
    await expect
      .poll(() => page.locator(".log").textContent(), { timeout: 20_000 })
      .toContain("PIPELINE COMPLETE");
    await shot(page, "03-grid-log");

    // The keyboard: the grid is one tab stop; arrows move the active cell, Enter opens it,
    // Escape closes the panel.
    await page.click('button[aria-label="Close the panel"]');
    await page.focus(".grid-scroll");
    // The clicked cell (notify) is the active one; Home goes to the row's first task.
    expect(await page.getAttribute(".grid-scroll", "aria-activedescendant")).toBe("gc-0-3");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowLeft");
    expect(await page.getAttribute(".grid-scroll", "aria-activedescendant")).toBe("gc-0-1");
    await page.keyboard.press("Enter");
    await page.waitForURL(/task=validate/);
    expect(new URL(page.url()).searchParams.get("run")).toBe(runId);
    await page.waitForSelector(".side-panel");
    await page.focus(".grid-scroll");
    await page.keyboard.press("Escape");
    await page.waitForSelector(".side-panel", { state: "detached" });

    // The dark theme, as the toggle sets it.
    await page.click("text=☾ Dark");
    expect(await page.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
    await shot(page, "04-grid-dark");
    await page.click("text=☀ Light");
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  test("markup in a DAG's docs, params, log and a run note shows as text and never runs", async () => {
    const { context, page } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags`);
    await page.click('button[aria-label="Trigger xss_probe"]');
    await page.waitForSelector("#param-label");
    expect(await page.inputValue("#param-label")).toBe(XSS);
    expect(await page.locator(".dialog").textContent()).toContain(`The label ${XSS}`);
    await page.click(".dialog summary");
    await page.fill("#trigger-note", `note ${XSS}`);
    await shot(page, "05-trigger-form");
    const runId = await submitTrigger(page, "xss_probe");
    await waitForCell(page, runId, "shout", "success");
    // The run's panel (its note), then the task's log.
    await page.waitForSelector(".side-panel .note");
    expect(await page.locator(".side-panel .note").textContent()).toBe(`note ${XSS}`);
    await page.click(`.grid-cell[data-run="${runId}"][data-task="shout"]`);
    await expect
      .poll(() => page.locator(".log").textContent(), { timeout: 20_000 })
      .toContain(`log line ${XSS}`);
    await page.click('a[role="tab"]:has-text("Details")');
    // doc_md is Markdown: the heading renders, and the raw HTML in it shows as text, never as an element.
    await page.waitForSelector(".doc.markdown h1");
    expect(await page.locator(".doc.markdown h1").textContent()).toBe(`Docs ${XSS}`);
    expect(await page.locator(".doc img").count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await shot(page, "06-details-xss");
    await context.close();
  }, 240_000);

  test("a Viewer sees no trigger or pause controls nor Admin, the asset schedules, and the API refuses a trigger anyway", async () => {
    const { context, page } = await ui.page();
    await ui.login(page, VIEWER.username, VIEWER.password);
    // The six example DAGs, the XSS probe and the wide asset condition.
    expect(await page.locator("table.dags tr[data-dag-id]").count()).toBe(8);
    expect(await page.locator('button[aria-label^="Trigger"]').count()).toBe(0);
    expect(await page.locator('input[role="switch"]').count()).toBe(0);
    expect(await page.locator('nav[aria-label="Main"] a:has-text("Admin")').count()).toBe(0);
    // An asset-scheduled DAG names its asset as `updraft dags list` does; a condition too long
    // for the column is cut, whole in the tooltip.
    const ASSET = "Asset: postgres://warehouse/public/warehouse_orders";
    const schedule = (dagId: string) => page.locator(`tr[data-dag-id="${dagId}"] .schedule-assets`);
    const cut = (dagId: string) => schedule(dagId).evaluate((e) => e.scrollWidth > e.clientWidth);
    expect(await schedule("warehouse_report").textContent()).toBe(ASSET);
    expect(await cut("warehouse_report")).toBe(false);
    const WIDE =
      "Asset: postgres://warehouse/public/warehouse_orders & (postgres://warehouse/public/warehouse_refunds | s3://finance-exports/daily/exchange_rates.parquet)";
    expect(await schedule("wide_asset_condition").getAttribute("title")).toBe(WIDE);
    expect(await cut("wide_asset_condition")).toBe(true);
    await shot(page, "07-viewer-dags");
    await page.goto(`${ui.url}/dags/warehouse_report/details`);
    await page.waitForSelector(`.page-head >> text=${ASSET}`);
    expect(await page.locator(".page-head").textContent()).not.toContain(`(Asset)`);
    await page.goto(`${ui.url}/dags`);
    await page.waitForSelector("table.dags tr[data-dag-id]");
    await page.click('a.dag-link:has-text("data_pipeline_lab")');
    await page.waitForSelector(".grid-scroll");
    expect(await page.locator('button[aria-label^="Trigger"]').count()).toBe(0);
    const status = await page.evaluate(async () => {
      const csrf = /(?:^|; )updraft_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? "";
      const res = await fetch("/api/v1/dags/data_pipeline_lab/dagRuns", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
        body: "{}",
      });
      return res.status;
    });
    expect(status).toBe(403);
    await context.close();
  }, 120_000);
});
