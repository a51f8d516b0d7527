// `npm run kube-sim`: the simulator in the foreground, its kubeconfig, its image map, and Ctrl-C.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import type { KubeSim } from "./index.js";
import { kubectl, kubectlPath, waitFor } from "./testing.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kube-sim-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(
  "writes a kubeconfig, runs Pods from its image map and updraft's, and on SIGINT kills them and exits 0",
  { timeout: 60_000 },
  async () => {
    const kubeconfig = join(dir, "kubeconfig.yaml");
    const images = join(dir, "images.json");
    const marker = join(dir, "still-running");
    writeFileSync(
      images,
      JSON.stringify({ "lab/tool:1": { entrypoint: ["tool"], commands: { tool: ["sh", "-c"] } } }),
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, "scripts", "kube-sim.mjs"), "--kubeconfig", kubeconfig, "--images", images],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    try {
      const url = await waitFor(
        "the URL",
        () => /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1],
        30_000,
      );
      expect(readFileSync(kubeconfig, "utf8")).toContain(url);
      const sim = { kubeconfigPath: kubeconfig } as KubeSim;
      const bin = kubectlPath();
      // The image's entrypoint is `tool`, mapped to `sh -c`: the Pod's args are its script.
      const run = await kubectl(sim, bin, [
        "run",
        "looper",
        "--image=lab/tool:1",
        "--restart=Never",
        "--",
        `echo started; while true; do touch ${marker}; sleep 0.05; done`,
      ]);
      expect(run.stdout).toContain("pod/looper created");
      await waitFor(
        "the Pod's process",
        async () => (await kubectl(sim, bin, ["logs", "looper"])).stdout === "started\n",
      );
      // The KubernetesExecutor's default image runs this checkout's CLI (needs the built dist).
      await kubectl(sim, bin, ["run", "cli", "--image=updraft:0.1.0", "--restart=Never", "--", "--version"]);
      const version = (
        JSON.parse(readFileSync(join(ROOT, "packages", "updraft", "package.json"), "utf8")) as {
          version: string;
        }
      ).version;
      await waitFor(
        "updraft --version in a Pod",
        async () => (await kubectl(sim, bin, ["logs", "cli"])).stdout === `${version}\n`,
      );
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      rmSync(marker, { force: true });
      await new Promise((r) => setTimeout(r, 300));
      expect(existsSync(marker)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  },
);

it("refuses to start without --kubeconfig", async () => {
  const child = spawn(process.execPath, [join(ROOT, "scripts", "kube-sim.mjs")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  expect(code).toBe(2);
  expect(err).toContain("--kubeconfig PATH is required");
});
