// The DAG page's Graph, Code and Details tabs in a real browser against a real standalone (the
// example DAGs plus fixtures/dags/graph_probe.ts: a task group, a setup/teardown pair and a mapped
// task). Screenshots 20-graph*, 21-code, 22-details go to packages/ui/test-artifacts.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone } from "./standalone.js";

const missing = browserMissing();
let ui: UiStandalone;

/** The task boxes on screen, left to right, with their state. */
async function boxes(page: Page): Promise<{ task: string; state: string; x: number; y: number }[]> {
  const all = await page.locator(".gtask[data-task]").evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return {
        task: e.getAttribute("data-task") ?? "",
        state: e.getAttribute("data-state") ?? "",
        x: Math.round(r.left),
        y: Math.round(r.top),
      };
    }),
  );
  return all.sort((a, b) => a.x - b.x);
}

async function openGraph(page: Page, dagId: string, query = ""): Promise<void> {
  await page.goto(`${ui.url}/dags/${dagId}/graph${query}`);
  await page.waitForSelector('.graph-canvas[data-laid-out="true"] .gtask');
}

describe.skipIf(missing !== null)("the Graph, Code and Details tabs in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start({ fixtures: ["graph_probe.ts"] });
  }, 180_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("data_pipeline_lab's graph: four tasks left to right, states of the latest run, a click opens the Grid's task panel", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await openGraph(page, "data_pipeline_lab");
    // Before any run: the structure, no states.
    let seen = await boxes(page);
    expect(seen.map((b) => b.task)).toEqual(["generate_data", "validate", "aggregate", "notify"]);
    expect(new Set(seen.map((b) => b.state))).toEqual(new Set(["none"]));
    expect(await page.locator(".react-flow__edge").count()).toBe(3);
    expect(await page.locator(".react-flow__edge.setup-teardown").count()).toBe(0);

    const runId = await ui.runToEnd("data_pipeline_lab");
    await openGraph(page, "data_pipeline_lab");
    await page.waitForSelector('.gtask[data-task="notify"][data-state="success"]', { timeout: 20_000 });
    seen = await boxes(page);
    expect(seen.map((b) => [b.task, b.state])).toEqual([
      ["generate_data", "success"],
      ["validate", "success"],
      ["aggregate", "success"],
      ["notify", "success"],
    ]);
    // The state is also said in words and with a mark, not by colour alone.
    expect(await page.locator('.gtask[data-task="notify"] .gnode-state').textContent()).toBe("success");
    expect(await page.locator('.gtask[data-task="notify"] .mark.state-success').count()).toBe(1);
    // The run picker names the run and the URL's ?run= selects it.
    expect(await page.locator(".graph-bar select").inputValue()).toBe(runId);
    await shot(page, "20-graph");

    await page.emulateMedia({ colorScheme: "dark" });
    await page.evaluate(() => window.localStorage.removeItem("updraft.theme"));
    await openGraph(page, "data_pipeline_lab", `?run=${encodeURIComponent(runId)}`);
    expect(await page.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
    await shot(page, "20-graph-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await page.click('.gtask[data-task="aggregate"] a.gnode-name');
    await page.waitForURL(/\/dags\/data_pipeline_lab\/grid\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get("run")).toBe(runId);
    expect(url.searchParams.get("task")).toBe("aggregate");
    await page.waitForSelector('.side-panel h2:has-text("aggregate")');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  test("graph_probe: a task group collapses to one box with its edges and expands again; setup→teardown is dashed and labelled; the mapped task shows its count", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    const runId = await ui.runToEnd("graph_probe");
    await openGraph(page, "graph_probe", `?run=${encodeURIComponent(runId)}`);
    await page.waitForSelector('.gtask[data-task="end"][data-state="success"]', { timeout: 20_000 });
    const order = (await boxes(page)).map((b) => b.task);
    const at = (t: string) => order.indexOf(t);
    expect(at("create_cluster")).toBeLessThan(at("start"));
    expect(at("start")).toBeLessThan(at("transform.users"));
    expect(at("transform.users")).toBeLessThan(at("transform.orders"));
    expect(at("transform.orders")).toBeLessThan(at("square"));
    expect(at("end")).toBeLessThan(at("delete_cluster"));
    // Expanded: a frame with the group's two tasks, shown by their short names.
    expect(await page.locator('.gframe[data-group="transform"]').count()).toBe(1);
    expect(await page.locator('.gtask[data-task="transform.users"] .gnode-name').textContent()).toBe("users");
    // Setup and teardown: badges, and their edge dashed with a label.
    expect(await page.locator('.gtask[data-task="create_cluster"] .grole').textContent()).toContain("setup");
    expect(await page.locator('.gtask[data-task="delete_cluster"] .grole').textContent()).toContain(
      "teardown",
    );
    expect(await page.locator(".react-flow__edge.setup-teardown").count()).toBe(1);
    expect(await page.locator(".react-flow__edge.setup-teardown .react-flow__edge-text").textContent()).toBe(
      "setup → teardown",
    );
    const dash = await page
      .locator(".react-flow__edge.setup-teardown .react-flow__edge-path")
      .evaluate((p) => getComputedStyle(p).strokeDasharray);
    expect(dash).not.toBe("none");
    // Mapped: the instance count of this run.
    expect(await page.locator('.gtask[data-task="square"] .gbadge').textContent()).toBe("[3]");
    const edgesExpanded = await page.locator(".react-flow__edge").count();
    // create→start, start→users, users→orders, orders→square, square→end, end→delete, create→delete
    expect(edgesExpanded).toBe(7);
    await shot(page, "20-graph-groups");

    await page.click('button[aria-label="Collapse group transform"]');
    await page.waitForSelector('.ggroup[data-group="transform"][data-expanded="false"]');
    expect(await page.locator('.gtask[data-task="transform.users"]').count()).toBe(0);
    expect(await page.locator('.ggroup[data-group="transform"]').getAttribute("data-state")).toBe("success");
    expect(await page.locator('.ggroup[data-group="transform"] .gbadge').textContent()).toBe("group · 2");
    // start→transform and transform→square stand for the group's edges; users→orders is inside it.
    await expect.poll(() => page.locator(".react-flow__edge").count()).toBe(6);
    const collapsedOrder = await page.locator(".gnode[data-task], .gnode[data-group]").evaluateAll((els) =>
      els
        .map((e) => ({
          id: e.getAttribute("data-task") ?? `group:${e.getAttribute("data-group")}`,
          x: e.getBoundingClientRect().left,
        }))
        .sort((a, b) => a.x - b.x)
        .map((e) => e.id),
    );
    expect(collapsedOrder.indexOf("start")).toBeLessThan(collapsedOrder.indexOf("group:transform"));
    expect(collapsedOrder.indexOf("group:transform")).toBeLessThan(collapsedOrder.indexOf("square"));
    await shot(page, "20-graph-collapsed");

    await page.click('button[aria-label="Expand group transform"]');
    await page.waitForSelector('.gtask[data-task="transform.users"]');
    await expect.poll(() => page.locator(".react-flow__edge").count()).toBe(7);

    // The Grid: the group starts collapsed as one column with the group's summary state; a click
    // expands it into its two tasks, and its band collapses it again.
    await page.goto(`${ui.url}/dags/graph_probe/grid`);
    const groupCell = `.grid-cell[data-run="${runId}"][data-group="transform"]`;
    await page.waitForSelector(`${groupCell}[data-state="success"]`);
    expect(await page.locator(`.grid-cell[data-task="transform.users"]`).count()).toBe(0);
    expect(await page.locator(groupCell).getAttribute("title")).toContain("2 success");
    await page.click(groupCell);
    await page.waitForSelector(
      `.grid-cell[data-run="${runId}"][data-task="transform.users"][data-state="success"]`,
    );
    expect(await page.locator(`.grid-cell[data-run="${runId}"][data-task="transform.orders"]`).count()).toBe(
      1,
    );
    expect(await page.locator(".grid-band").textContent()).toContain("transform");
    await shot(page, "23-grid-group-expanded");
    await page.click(".grid-band");
    await page.waitForSelector(groupCell);
    expect(await page.locator(`.grid-cell[data-task="transform.users"]`).count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  test("the Code tab shows the DAG file highlighted, with line numbers, its path and a copy button", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/data_pipeline_lab/code`);
    await page.waitForSelector(".code-view .code-line");
    const text = (await page.locator(".code-view .code-text").allTextContents()).join("");
    expect(text).toContain('dagId: "data_pipeline_lab"');
    expect(text).toContain('import { dag, task } from "updraft";');
    expect(await page.locator(".code-view .token.keyword").count()).toBeGreaterThan(10);
    expect(await page.locator(".code-view .token.string").count()).toBeGreaterThan(5);
    const lines = await page.locator(".code-view .code-line").count();
    expect(
      await page
        .locator(".code-view .code-line")
        .nth(lines - 1)
        .locator(".code-ln")
        .textContent(),
    ).toBe(String(lines));
    expect(await page.locator(".code-path").textContent()).toMatch(/data_pipeline_lab\.ts$/);
    expect(await page.locator('.code-bar button:has-text("Copy")').isEnabled()).toBe(true);
    await shot(page, "21-code");
    expect(errors).toEqual([]);
    await context.close();
  });

  test("the Details tab renders doc_md as Markdown with safe links only, and the DAG's settings and params", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/dags/graph_probe/details`);
    await page.waitForSelector(".doc.markdown h2");
    expect(await page.locator(".doc.markdown h2").textContent()).toBe("Graph probe");
    expect(await page.locator(".doc.markdown strong").textContent()).toBe("setup/teardown");
    expect(await page.locator(".doc.markdown table td").allTextContents()).toEqual(["1", "2"]);
    expect(await page.locator('.doc.markdown a[href="https://example.com"]').count()).toBe(1);
    expect(await page.locator('.doc.markdown a[href^="javascript"]').count()).toBe(0);
    expect(await page.locator(".doc.markdown").textContent()).toContain("unsafe");
    const settings = (await page.locator('section[aria-label="Settings"]').textContent()) ?? "";
    expect(settings).toContain("Catchup");
    expect(settings).toContain("graph_probe.ts");
    expect(settings).toMatch(/Retries\s*2/);
    await shot(page, "22-details");
    // A DAG with params: their defaults.
    await page.goto(`${ui.url}/dags/xss_probe/details`);
    await page.waitForSelector(".params-table");
    expect(await page.locator(".params-table tbody tr td").first().textContent()).toBe("label");
    expect(errors).toEqual([]);
    await context.close();
  });
});
