// `updraft standalone` with a DAG file that loops forever at import: the server answers at once,
// the good DAG appears while the bad file is still being evaluated, and SIGTERM stops it cleanly
// without waiting for the loop's time limit.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { FIXTURES } from "../helpers.js";
import { Daemon, eventually } from "./helpers.js";

const home = mkdtempSync(join(tmpdir(), "updraft-e2e-slow-dag-"));
const dags = join(home, "dags");
mkdirSync(dags);
// Sorted first, so that it takes the first evaluation child.
copyFileSync(join(FIXTURES, "dags-bad", "forever.ts"), join(dags, "a_forever.ts"));
copyFileSync(join(FIXTURES, "dags-bad", "good.ts"), join(dags, "b_good.ts"));

// Far longer than any wait below: the loop is still running whenever this test looks.
const PARSE_TIMEOUT_S = 600;
const env = {
  UPDRAFT_HOME: home,
  UPDRAFT__CORE__DAGS_FOLDER: dags,
  UPDRAFT__CORE__DAG_FILE_PROCESSOR_TIMEOUT: String(PARSE_TIMEOUT_S),
};
let daemon: Daemon | null = null;

afterAll(async () => {
  await daemon?.stop("SIGKILL");
  rmSync(home, { recursive: true, force: true });
});

test("standalone serves at once and lists the good DAG while another file still loops", async () => {
  daemon = new Daemon(["standalone", "--port", "0"], env);
  const ready = await daemon.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000);
  const url = ready[1];
  const health = await fetch(`${url}/api/v1/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { metadatabase: { status: string } }).metadatabase.status).toBe("healthy");

  const { token } = JSON.parse(readFileSync(join(home, "standalone.json"), "utf8")) as { token: string };
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return res.json();
  };
  const dagIds = await eventually(
    async () => {
      const body = (await get("/dags")) as { dags: { dag_id: string }[] };
      const ids = body.dags.map((d) => d.dag_id);
      return ids.includes("survivor") ? ids : undefined;
    },
    120_000,
    "the good DAG in /api/v1/dags",
  );
  expect(dagIds).toEqual(["survivor"]);
  // The looping file is still being evaluated: no import error for it yet, first parse not over.
  const errors = (await get("/importErrors")) as { import_errors: { filename: string }[] };
  expect(errors.import_errors).toEqual([]);
  expect(daemon.output).not.toMatch(/first parse of the DAG folder finished/);

  expect(await daemon.stop("SIGTERM")).toBe(0);
  // Stopping mid-parse is no failure (nor an import error of the interrupted file).
  expect(daemon.output).not.toMatch(/ERROR/);
}, 300_000);
