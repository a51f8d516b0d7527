// One real `updraft standalone` (the built binary, the example DAGs, an XSS probe DAG and a
// broken DAG file) for a browser test file, with the helpers every page's test needs: the admin's
// password, an authenticated fetch, login, screenshots, waiting. Each test file starts its own.
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Daemon, EXAMPLES } from "../../updraft/test/e2e/helpers.js";
import { ARTIFACTS, launchBrowser } from "./browser.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/dags/", import.meta.url));
export const XSS = `<img src=x onerror="window.__xss=1">`;
export const VIEWER = { username: "viewer", password: "viewer-secret-1" };

export class UiStandalone {
  private constructor(
    readonly daemon: Daemon,
    readonly browser: Browser,
    readonly url: string,
    readonly adminPassword: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Starts standalone on a fresh home and DAG folder, creates the Viewer user, opens Chromium.
   * `fixtures` names more DAG files of test/fixtures/dags to copy in (xss_probe.ts always is);
   * opt-in, so that other test files see the DAG list they expect.
   */
  static async start(options: { fixtures?: readonly string[] } = {}): Promise<UiStandalone> {
    const home = mkdtempSync(join(tmpdir(), "updraft-ui-test-"));
    const env = { UPDRAFT_HOME: home };
    // The examples and the probe in one folder (the probe's docs, param and log carry markup).
    const folder = mkdtempSync(join(tmpdir(), "updraft-ui-dags-"));
    for (const f of readdirSync(EXAMPLES))
      if (f.endsWith(".ts")) copyFileSync(join(EXAMPLES, f), join(folder, f));
    for (const f of ["xss_probe.ts", ...(options.fixtures ?? [])])
      copyFileSync(join(FIXTURES, f), join(folder, f));
    // A DAG file that fails to load: the list's banner names it with the error.
    writeFileSync(
      join(folder, "broken_dag.ts"),
      `import { dag } from "updraft";\nthrow new Error(${JSON.stringify(`broken on purpose ${XSS}`)});\nexport default dag({ dagId: "broken" }, () => {});\n`,
    );
    const daemon = new Daemon(["standalone", "--port", "0", "--dags-folder", folder], env);
    // Chromium starts while the standalone does (each mostly waits on the other's CPU otherwise).
    const browser = launchBrowser();
    try {
      const url = (await daemon.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000))[1] ?? "";
      const password =
        (await daemon.waitFor(/Login with username: admin {2}password: (\S+)/, 5_000))[1] ?? "";
      await daemon.waitFor(/first parse of the DAG folder finished/, 120_000);
      const ui = new UiStandalone(daemon, await browser, url, password, env);
      // Through the API, not `updraft users create`: one CLI process less per file (the CLI's
      // forwarding to standalone has tests of its own).
      await ui.apiJson("/api/v1/users", "POST", {
        username: VIEWER.username,
        email: "viewer@example.com",
        password: VIEWER.password,
        roles: [{ name: "Viewer" }],
      });
      return ui;
    } catch (err) {
      await (await browser.catch(() => null))?.close();
      await daemon.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await this.daemon.stop();
  }

  /** fetch against the API as the admin (Basic auth). */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const auth = `Basic ${Buffer.from(`admin:${this.adminPassword}`).toString("base64")}`;
    return fetch(`${this.url}${path}`, { ...init, headers: { authorization: auth, ...init.headers } });
  }

  /** A JSON request as the admin that must succeed; returns the parsed body. */
  async apiJson<T>(path: string, method = "GET", body?: unknown): Promise<T> {
    const res = await this.api(path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** Unpauses a DAG, triggers a run through the API and waits until it ends; returns its run id. */
  async runToEnd(dagId: string, conf: Record<string, unknown> = {}, timeoutMs = 150_000): Promise<string> {
    await this.apiJson(`/api/v1/dags/${dagId}`, "PATCH", { is_paused: false });
    const run = await this.apiJson<{ dag_run_id: string }>(`/api/v1/dags/${dagId}/dagRuns`, "POST", { conf });
    await until(
      `${dagId} run ${run.dag_run_id} to end`,
      async () => {
        const r = await this.apiJson<{ state: string }>(
          `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(run.dag_run_id)}`,
        );
        return r.state === "success" || r.state === "failed";
      },
      timeoutMs,
    );
    return run.dag_run_id;
  }

  /** A 1366×768 page (the laptop screen the UI must fit), failing the test on page errors. */
  async page(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await this.browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    return { context, page, errors };
  }

  async login(page: Page, username = "admin", password = this.adminPassword): Promise<void> {
    await page.goto(`${this.url}/dags`);
    await page.waitForURL(/\/login\?next=/);
    await page.fill("input[name=username]", username);
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit]");
    await page.waitForSelector("table.dags tr[data-dag-id]");
  }
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Saves a screenshot under packages/ui/test-artifacts (not committed; look at them). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

export async function waitForCell(
  page: Page,
  runId: string,
  taskId: string,
  state: string,
  timeoutMs = 150_000,
) {
  await page.waitForSelector(
    `.grid-cell[data-run="${runId}"][data-task="${taskId}"][data-state="${state}"]`,
    {
      timeout: timeoutMs,
    },
  );
}
