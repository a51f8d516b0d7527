// The Admin and Browse pages in a real browser against a real `updraft standalone`: variables
// and pools created, edited and deleted from the UI and checked through the API; a connection's
// password in neither the page nor any response; an API token created in the UI working with
// fetch and refused once revoked; Browse runs filtered by state; the audit log naming the admin;
// users created, changed, deactivated and deleted; a Viewer without the Admin menu, nor create
// buttons, told which permission the Users page needs. Screenshots 50–58 and 60 in test-artifacts.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { updraft } from "../../updraft/test/e2e/helpers.js";
import { browserMissing } from "./browser.js";
import { shot, UiStandalone, until, VIEWER } from "./standalone.js";

const missing = browserMissing();
let ui: UiStandalone;

async function status(path: string): Promise<number> {
  return (await ui.api(path)).status;
}

/** Fills a dialog's fields by name and submits it; waits for the dialog to close. */
async function submitDialog(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(fields)) await page.fill(`.dialog [name="${name}"]`, value);
  await page.click('.dialog button[type="submit"]');
  await page.waitForSelector(".dialog", { state: "detached" });
}

describe.skipIf(missing !== null)("Admin and Browse pages in Chromium", () => {
  beforeAll(async () => {
    ui = await UiStandalone.start();
  }, 180_000);

  afterAll(async () => {
    await ui?.stop();
  });

  test("variables: create, edit and delete from the UI; secrets masked; JSON shown; the audit log names the admin", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await ui.apiJson("/api/v1/variables", "POST", {
      key: "db_password",
      value: "s3cr3t-value",
      description: "masked",
    });
    await ui.apiJson("/api/v1/variables", "POST", {
      key: "etl_config",
      value: '{"batch": 500, "retries": [1, 2]}',
    });
    await page.goto(`${ui.url}/admin/variables`);
    await page.waitForSelector('tr[data-key="etl_config"]');
    expect(await page.locator('tr[data-key="db_password"]').textContent()).toContain("*** hidden");
    expect(await page.content()).not.toContain("s3cr3t-value");
    expect(await page.locator('tr[data-key="etl_config"]').textContent()).toContain("JSON");
    // A row's Delete is readable: two stylesheets once made it red text on a red button.
    const [fg, bg] = await page
      .locator('button[aria-label="Delete etl_config"]')
      .evaluate((b) => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]);
    expect(fg).not.toBe(bg);

    await page.click("text=+ Add variable");
    await submitDialog(page, { key: "ui_created", value: "first", description: "made in the UI" });
    await page.waitForSelector('tr[data-key="ui_created"]');
    expect(await ui.apiJson("/api/v1/variables/ui_created")).toEqual({
      key: "ui_created",
      value: "first",
      description: "made in the UI",
    });

    await page.click('button[aria-label="Edit ui_created"]');
    await submitDialog(page, { value: '{"second": true}' });
    await until("the edit to show", async () =>
      ((await page.locator('tr[data-key="ui_created"]').textContent()) ?? "").includes("second"),
    );
    expect(((await ui.apiJson("/api/v1/variables/ui_created")) as { value: string }).value).toBe(
      '{"second": true}',
    );

    // Editing a masked variable without typing a value keeps the secret.
    await page.click('button[aria-label="Edit db_password"]');
    await submitDialog(page, { description: "still masked" });
    await until("the description to change", async () =>
      ((await page.locator('tr[data-key="db_password"]').textContent()) ?? "").includes("still masked"),
    );
    const cli = updraft(["variables", "get", "db_password"], ui.env);
    expect(cli.stdout.trim(), cli.stderr).toBe("s3cr3t-value");

    // Search is in the URL.
    await page.fill('input[aria-label="Search variables"]', "etl");
    await page.waitForURL(/search=etl/);
    await until("the search to filter", async () => (await page.locator("tr[data-key]").count()) === 1);
    await page.goto(`${ui.url}/admin/variables`);
    await page.waitForSelector('tr[data-key="ui_created"]');
    await shot(page, "50-variables");

    await page.click('button[aria-label="Delete ui_created"]');
    await page.click('.dialog button[type="submit"]');
    await page.waitForSelector('tr[data-key="ui_created"]', { state: "detached" });
    expect(await status("/api/v1/variables/ui_created")).toBe(404);

    // The audit log shows the creation, by admin.
    await page.goto(`${ui.url}/browse/audit?event=variable.create`);
    await page.waitForSelector('tr[data-event="variable.create"]');
    const rows = await page
      .locator('tr[data-event="variable.create"]')
      .evaluateAll((trs) =>
        trs.map((tr) => ({ owner: tr.getAttribute("data-owner"), text: tr.textContent ?? "" })),
      );
    expect(rows.some((r) => r.owner === "admin" && r.text.includes("ui_created"))).toBe(true);
    await page.goto(`${ui.url}/browse/audit`);
    await page.waitForSelector('tr[data-event="variable.delete"]');
    await shot(page, "53-audit");
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("pools: create, edit slots and delete from the UI; default_pool cannot be deleted", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/admin/pools`);
    await page.waitForSelector('tr[data-pool="default_pool"]');
    expect(await page.locator('button[aria-label="Delete default_pool"]').count()).toBe(0);
    await page.click("text=+ Add pool");
    await submitDialog(page, { name: "gpu", slots: "4", description: "two cards, two slots each" });
    await page.waitForSelector('tr[data-pool="gpu"]');
    expect(await ui.apiJson("/api/v1/pools/gpu")).toMatchObject({ name: "gpu", slots: 4, open_slots: 4 });
    await page.click('button[aria-label="Edit gpu"]');
    await submitDialog(page, { slots: "8" });
    await until(
      "the slots to show",
      async () => ((await page.locator('tr[data-pool="gpu"] td.num').first().textContent()) ?? "") === "8",
    );
    expect(await ui.apiJson("/api/v1/pools/gpu")).toMatchObject({ slots: 8 });
    // A bad value is refused in the form, with the reason.
    await page.click('button[aria-label="Edit gpu"]');
    await page.fill('.dialog [name="slots"]', "-7");
    expect(await page.locator(".dialog .error").textContent()).toContain("whole number");
    await page.keyboard.press("Escape");
    await page.waitForSelector(".dialog", { state: "detached" });
    await shot(page, "51-pools");
    // Users and roles, in the dark theme.
    await page.goto(`${ui.url}/admin/users`);
    await page.waitForSelector('tr[data-user="viewer"]');
    await page.click('button:has-text("Dark")');
    await shot(page, "54-users-dark");
    await page.goto(`${ui.url}/admin/roles`);
    await page.waitForSelector('tr[data-role="Viewer"]');
    await shot(page, "55-roles-dark");
    await page.goto(`${ui.url}/admin/pools`);
    await page.waitForSelector('tr[data-pool="gpu"]');
    await page.click('button[aria-label="Delete gpu"]');
    await page.click('.dialog button[type="submit"]');
    await page.waitForSelector('tr[data-pool="gpu"]', { state: "detached" });
    expect(await status("/api/v1/pools/gpu")).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("a connection's password and secret extras appear in neither the page nor any response", async () => {
    const PASSWORD = "hunter2-conn-password";
    const SECRET = "tok-extra-secret-42";
    const { context, page, errors } = await ui.page();
    const bodies: string[] = [];
    page.on("response", (r) => {
      void r.text().then(
        (t) => bodies.push(t),
        () => undefined,
      );
    });
    await ui.login(page);
    await page.goto(`${ui.url}/admin/connections`);
    await page.click("text=+ Add connection");
    await page.fill('.dialog [name="password"]', PASSWORD);
    await submitDialog(page, {
      connection_id: "warehouse",
      conn_type: "postgres",
      host: "db.example.com",
      port: "5432",
      login: "etl",
      schema: "analytics",
      extra: `{"sslmode": "require", "api_token": "${SECRET}"}`,
    });
    await page.waitForSelector('tr[data-key="warehouse"]');
    const row = (await page.locator('tr[data-key="warehouse"]').textContent()) ?? "";
    expect(row).toContain("db.example.com");
    expect(row).toContain("***");
    // An edit of the host keeps the password and the secret extra (sent only what changed).
    await page.click('button[aria-label="Edit warehouse"]');
    expect(await page.inputValue('.dialog [name="password"]')).toBe("");
    await submitDialog(page, { host: "db2.example.com" });
    await until("the new host", async () =>
      ((await page.locator('tr[data-key="warehouse"]').textContent()) ?? "").includes("db2.example.com"),
    );
    const got = await ui.apiJson<Record<string, unknown>>("/api/v1/connections/warehouse");
    expect(got).toMatchObject({ host: "db2.example.com", login: "etl", port: 5432 });
    // The CLI shows a set password as *** (null when none): it is still set, and so is the token.
    const cli = updraft(["connections", "get", "warehouse", "-o", "json"], ui.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/"password": "\*\*\*"/);
    expect(cli.stdout).toContain("api_token");
    await page.reload();
    await page.waitForSelector('tr[data-key="warehouse"]');
    await shot(page, "57-connections");
    await page.waitForLoadState("networkidle");
    expect(await page.content()).not.toContain(PASSWORD);
    expect(await page.content()).not.toContain(SECRET);
    expect(bodies.length).toBeGreaterThan(3);
    for (const b of bodies) {
      expect(b).not.toContain(PASSWORD);
      expect(b).not.toContain(SECRET);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("an API token created in the UI works with fetch (Bearer) and is refused once revoked", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/admin/tokens`);
    await page.click("text=+ Create token");
    await page.fill('.dialog [name="description"]', "test script");
    await page.click('.dialog button[type="submit"]');
    const token = await page.inputValue('.dialog input[aria-label="New API token"]');
    await shot(page, "56-token-created");
    expect(token).toMatch(/^updraft_/);
    const me = await fetch(`${ui.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe("admin");
    await page.click('.dialog button:has-text("Done")');
    const id = await page.locator("tr[data-token]").first().getAttribute("data-token");
    expect(await page.locator(`tr[data-token="${id}"]`).textContent()).toContain("test script");
    expect(await page.content()).not.toContain(token);
    await page.click(`button[aria-label="Revoke token ${id}"]`);
    await page.click('button:has-text("Revoke now")');
    await until("the token to show revoked", async () =>
      ((await page.locator(`tr[data-token="${id}"]`).textContent()) ?? "").includes("revoked"),
    );
    const after = await fetch(`${ui.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("Browse runs filtered by state after a run; task instances link to their page; the DAGs list's Failed filter", async () => {
    const runId = await ui.runToEnd("data_pipeline_lab");
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/browse/runs?state=success`);
    await page.waitForSelector(`tr[data-run="${runId}"]`);
    const states = await page
      .locator("tr[data-run]")
      .evaluateAll((trs) => trs.map((t) => t.getAttribute("data-state")));
    expect(new Set(states)).toEqual(new Set(["success"]));
    expect(await page.inputValue('select[name="state"]')).toBe("success");
    // The filter is in the URL both ways: choosing "failed" leaves no run here.
    await page.selectOption('select[name="state"]', "failed");
    await page.waitForURL(/state=failed/);
    await page.waitForSelector("text=No run matches these filters.");
    await page.goto(`${ui.url}/browse/runs?dag_id=data_pipeline_lab`);
    await page.waitForSelector(`tr[data-run="${runId}"]`);
    await shot(page, "52-browse-runs");
    // Keyboard: focus the first row, Enter follows its run link into the Grid.
    await page.locator(`tr[data-run="${runId}"]`).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(new RegExp(`/dags/data_pipeline_lab/grid\\?run=`));

    await page.goto(`${ui.url}/browse/tasks?dag_id=data_pipeline_lab&task_id=notify`);
    await page.waitForSelector('tr[data-task="notify"][data-state="success"]');
    await page.goto(`${ui.url}/browse/tasks?dag_id=data_pipeline_lab`);
    await page.waitForSelector('tr[data-task="notify"][data-state="success"]');
    await shot(page, "58-browse-tasks");
    // A header sorts by its column; a second click reverses; the order is in the URL.
    const taskOrder = () =>
      page.locator("tr[data-task]").evaluateAll((trs) => trs.map((t) => t.getAttribute("data-task") ?? ""));
    await page.click('th button:has-text("Task")');
    await page.waitForURL(/order_by=task_id/);
    await page.waitForSelector('th[aria-sort="ascending"] >> text=Task');
    const ascending = await taskOrder();
    expect(ascending).toEqual([...ascending].sort());
    await page.click('th button:has-text("Task")');
    await page.waitForURL(/order_by=-task_id/);
    await page.waitForFunction(
      (first) => document.querySelector("tr[data-task]")?.getAttribute("data-task") !== first,
      ascending[0],
    );
    expect(await taskOrder()).toEqual([...ascending].reverse());
    await page.goto(`${ui.url}/browse/tasks?dag_id=data_pipeline_lab&task_id=notify`);
    await page.waitForSelector('tr[data-task="notify"][data-state="success"]');
    expect(await page.locator("tr[data-task]").count()).toBe(1);
    await page.click('tr[data-task="notify"] a');
    await page.waitForURL(
      new RegExp(`/dags/data_pipeline_lab/runs/${encodeURIComponent(runId)}/tasks/notify`),
    );

    await page.goto(`${ui.url}/dags`);
    await page.waitForSelector("tr[data-dag-id]");
    await page.click("button.filter-toggle");
    await page.waitForURL(/last_run=failed/);
    await until("the failed filter", async () => (await page.locator("tr[data-dag-id]").count()) === 0);
    expect(await page.getAttribute("button.filter-toggle", "aria-pressed")).toBe("true");
    // Marked failed, the run makes its DAG the one the filter shows.
    await ui.apiJson(`/api/v1/dags/data_pipeline_lab/dagRuns/${encodeURIComponent(runId)}`, "PATCH", {
      state: "failed",
    });
    await page.reload();
    await page.waitForSelector('tr[data-dag-id="data_pipeline_lab"]');
    expect(await page.locator("tr[data-dag-id]").count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  test("users: create with a role, change the role, deactivate, delete; the last Admin cannot demote themself", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page);
    await page.goto(`${ui.url}/admin/users`);
    await page.waitForSelector('tr[data-user="viewer"]');
    await page.click("text=+ Add user");
    await page.selectOption('.dialog [name="role"]', "Op");
    await submitDialog(page, {
      username: "ops_anna",
      email: "anna@example.com",
      first_name: "Anna",
      password: "anna-secret-1",
    });
    await page.waitForSelector('tr[data-user="ops_anna"]');
    type U = { roles: { name: string }[]; active: boolean };
    expect(await ui.apiJson<U>("/api/v1/users/ops_anna")).toMatchObject({
      roles: [{ name: "Op" }],
      active: true,
    });

    await page.selectOption('select[aria-label="Role of ops_anna"]', "User");
    await until(
      "the role change",
      async () => (await ui.apiJson<U>("/api/v1/users/ops_anna")).roles.map((r) => r.name).join() === "User",
    );
    await page.click('button[aria-label="Deactivate ops_anna"]');
    await page.waitForSelector('button[aria-label="Activate ops_anna"]');
    expect((await ui.apiJson<U>("/api/v1/users/ops_anna")).active).toBe(false);

    // The admin is the last active Admin: no Delete nor Deactivate on their own row, and demoting
    // themself is refused by the API, in words, on the page.
    expect(await page.locator('button[aria-label="Delete admin"]').count()).toBe(0);
    await page.selectOption('select[aria-label="Role of admin"]', "Viewer");
    expect(await page.locator('[role="alert"]').textContent({ timeout: 10_000 })).toContain(
      "last active Admin",
    );
    expect((await ui.apiJson<U>("/api/v1/users/admin")).roles.map((r) => r.name)).toEqual(["Admin"]);

    await page.click('button[aria-label="Delete ops_anna"]');
    await page.click('.dialog button[type="submit"]');
    await page.waitForSelector('tr[data-user="ops_anna"]', { state: "detached" });
    expect(await status("/api/v1/users/ops_anna")).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("a Viewer has no Admin menu, reads pools without controls, and is told which permission Users needs", async () => {
    const { context, page, errors } = await ui.page();
    await ui.login(page, VIEWER.username, VIEWER.password);
    // As in Airflow, Admin is Op's and Admin's: a Viewer may read pools but change nothing there.
    const main = page.locator('nav[aria-label="Main"] a');
    expect(await main.allTextContents()).toEqual(["DAGs", "Browse"]);
    // Their own API tokens are behind their name.
    await page.click('a.user:has-text("viewer")');
    await page.waitForURL(/\/admin\/tokens$/);
    await page.waitForSelector("text=+ Create token");
    const tabs = await page.locator('nav[aria-label="Admin sections"] a').allTextContents();
    expect(tabs).toEqual(["Pools", "API tokens"]);
    await page.click('nav[aria-label="Admin sections"] >> text=Pools');
    await page.waitForSelector('tr[data-pool="default_pool"]');
    expect(await page.locator("text=+ Add pool").count()).toBe(0);
    expect(await page.locator('button:has-text("Edit")').count()).toBe(0);
    expect(await page.locator('button:has-text("Delete")').count()).toBe(0);
    // Opened by URL, a page the role may not read names the permission and the user's role.
    await page.goto(`${ui.url}/admin/users`);
    const denied = page.locator('[role="alert"][data-permission="users:read"]');
    await denied.waitFor();
    expect(await denied.textContent()).toContain("You may not see Users");
    expect(await denied.textContent()).toMatch(
      /permission users:read, and your role Viewer does not hold it/,
    );
    expect(await page.locator("table.users").count()).toBe(0);
    await shot(page, "60-viewer-no-users");
    await page.goto(`${ui.url}/admin/variables`);
    await page.waitForSelector('[role="alert"][data-permission="variables:read"]');
    await page.goto(`${ui.url}/admin/nonsense`);
    await page.waitForSelector("text=There is no Admin page");
    const basic = `Basic ${Buffer.from(`${VIEWER.username}:${VIEWER.password}`).toString("base64")}`;
    const refused = await fetch(`${ui.url}/api/v1/pools`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json" },
      body: JSON.stringify({ name: "sneaky", slots: 1 }),
    });
    expect(refused.status).toBe(403);
    expect((await fetch(`${ui.url}/api/v1/users`, { headers: { authorization: basic } })).status).toBe(403);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
