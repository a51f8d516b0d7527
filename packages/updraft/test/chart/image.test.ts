// The Docker image's build steps without Docker (none runs here): the same scripts the Dockerfile
// runs (scripts/image/pack.sh, scripts/image/install.sh) pack the built package and install it
// with its runtime dependencies into an empty folder, and `updraft` started from there answers
// --version and --help, serves /health and the web UI, and runs data_pipeline_lab to success.
// Needs the build (`npm run build`, as `npm test` does first) and the npm registry or npm's cache.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { REPO_ROOT } from "./render.js";

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string })
  .version;

let dir = "";
let updraftBin = "";
let installed = "";

/** Runs one of scripts/image/ as the Dockerfile does, failing with its output. */
function script(name: string, args: string[]): string {
  const r = spawnSync("sh", [join(REPO_ROOT, "scripts", "image", name), ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 150_000,
    // Same command as the image; npm's cache (filled by `npm ci`) spares most downloads here.
    env: { ...process.env, npm_config_prefer_offline: "true" },
  });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** `updraft …` from the installed copy, in the empty folder, with its own UPDRAFT_HOME. */
function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(updraftBin, args, { cwd: dir, env: envFor(), encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function envFor(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("UPDRAFT")) env[k] = v;
  return {
    ...env,
    UPDRAFT_HOME: join(dir, "home"),
    UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false",
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
}

beforeAll(() => {
  for (const built of ["dist/cli/main.js", "ui-dist/index.html"]) {
    if (!existsSync(join(PACKAGE_ROOT, built))) {
      throw new Error(`packages/updraft/${built} is missing: run \`npm run build\` first (npm test does).`);
    }
  }
  dir = tempDir("updraft-image-");
  const tarball = script("pack.sh", [join(dir, "pack")]);
  script("install.sh", [join(dir, "prefix"), tarball]);
  installed = join(dir, "prefix", "lib", "node_modules", "updraft");
  updraftBin = join(dir, "prefix", "bin", "updraft");
  mkdirSync(join(dir, "dags"));
  copyFileSync(
    join(REPO_ROOT, "examples", "dags", "data_pipeline_lab.ts"),
    join(dir, "dags", "data_pipeline_lab.ts"),
  );
}, 180_000);

afterAll(() => cleanupTempDirs());

describe("the image's install steps, into an empty folder", () => {
  it("run the same scripts as the Dockerfile, which starts `updraft` as a non-root user", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/RUN npm run build && sh scripts\/image\/pack\.sh \/out/);
    expect(dockerfile).toMatch(/RUN sh \/tmp\/install\.sh \/usr\/local /);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "updraft"\]$/m);
    expect(dockerfile).toMatch(/^USER 50000:0$/m);
    expect(dockerfile).toMatch(/UPDRAFT_HOME=\/opt\/updraft/);
    expect(dockerfile).toMatch(/mkdir -p \/opt\/updraft\/dags/);
  });

  it("install the built code and the web UI, without tests or dev dependencies", () => {
    expect(existsSync(join(installed, "dist", "cli", "main.js"))).toBe(true);
    expect(existsSync(join(installed, "ui-dist", "index.html"))).toBe(true);
    expect(existsSync(join(installed, "test"))).toBe(false);
    const tests = (readdirSync(join(installed, "src"), { recursive: true }) as string[]).filter((f) =>
      f.endsWith(".test.ts"),
    );
    expect(tests).toEqual([]);
    // A dev dependency of the workspace (vitest) is not there; a runtime one (fastify) is.
    const deps = join(installed, "node_modules");
    expect(existsSync(join(deps, "fastify"))).toBe(true);
    expect(existsSync(join(deps, "vitest"))).toBe(false);
  });

  it("give a working `updraft` command", () => {
    const version = run(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["standalone", "api-server", "scheduler", "dag-processor", "db", "users"]) {
      expect(help.stdout).toContain(command);
    }
  });

  describe("updraft standalone from the installed copy", () => {
    let child: ChildProcess | null = null;
    let url = "";
    let log = "";

    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(updraftBin, ["standalone", "--port", String(port), "--dags-folder", join(dir, "dags")], {
        cwd: dir,
        env: envFor(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.setEncoding("utf8").on("data", (d: string) => (log += d));
      child.stderr?.setEncoding("utf8").on("data", (d: string) => (log += d));
      await until("/health", 60_000, async () =>
        (await fetch(`${url}/health`)).ok ? true : undefined,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${log}`);
      });
    }, 90_000);

    afterAll(async () => {
      const c = child;
      if (c === null || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }, 30_000);

    it("answers /health and serves the web UI", async () => {
      const health = (await (await fetch(`${url}/health`)).json()) as Record<string, { status: string }>;
      expect(health["metadatabase"]?.status).toBe("healthy");
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<!doctype html>/i);
    });

    it("runs data_pipeline_lab to success, its tasks in runners from the installed copy", async () => {
      await until("data_pipeline_lab to be parsed", 60_000, async () => {
        const r = run(["dags", "trigger", "data_pipeline_lab", "--run-id", "image_smoke"]);
        return r.status === 0 ? true : undefined;
      });
      const state = await until("the run to finish", 120_000, async () => {
        const s = run(["dags", "state", "data_pipeline_lab", "image_smoke"]).stdout.trim();
        return s === "success" || s === "failed" ? s : undefined;
      });
      expect(state, log).toBe("success");
    }, 200_000);
  });
});
