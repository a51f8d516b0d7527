/**
 * `npm run kube-sim -- --kubeconfig PATH [--port N] [--images FILE.json] [--start-delay-ms N]`:
 * the simulator in the foreground, for a person or a script walking the lab. Ctrl-C (SIGINT or
 * SIGTERM) kills its Pods' processes and exits.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startKubeSim } from "./index.js";
import type { ImageSpec } from "./types.js";

/** This checkout's CLI (scripts/kube-sim.mjs says where: the bundle runs from node_modules/.cache). */
const UPDRAFT_BIN =
  process.env.KUBE_SIM_UPDRAFT_BIN ??
  resolve(fileURLToPath(new URL("../../bin/updraft.js", import.meta.url)));

const USAGE =
  "usage: npm run kube-sim -- --kubeconfig PATH [--port N] [--images FILE.json] [--start-delay-ms N]";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      port: { type: "string" },
      images: { type: "string" },
      "start-delay-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(
      `${USAGE}\n--images: a JSON object, image → { "entrypoint"?: [...], "cmd"?: [...], "commands"?: { "argv0": [local argv prefix] } }\n`,
    );
    return;
  }
  if (values.kubeconfig === undefined) {
    process.stderr.write(
      `kube-sim: --kubeconfig PATH is required (the simulator writes a kubeconfig for itself there)\n${USAGE}\n`,
    );
    process.exitCode = 2;
    return;
  }
  // The KubernetesExecutor's default image (updraft:<version>) runs this checkout's CLI, so that
  // standalone with KUBECONFIG pointing here runs every task in a simulated Pod.
  let images: Record<string, ImageSpec> = {
    updraft: { entrypoint: ["updraft"], commands: { updraft: [process.execPath, UPDRAFT_BIN] } },
  };
  if (values.images !== undefined) {
    try {
      images = {
        ...images,
        ...(JSON.parse(readFileSync(values.images, "utf8")) as Record<string, ImageSpec>),
      };
    } catch (err) {
      process.stderr.write(
        `kube-sim: cannot read the image map ${values.images}: ${(err as Error).message}\n`,
      );
      process.exitCode = 2;
      return;
    }
  }
  const sim = await startKubeSim({
    images,
    kubeconfigPath: resolve(values.kubeconfig),
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
    ...(values["start-delay-ms"] === undefined ? {} : { startDelayMs: Number(values["start-delay-ms"]) }),
  });
  process.stdout.write(
    `kube-sim: images: ${Object.keys(images).join(", ")} (and busybox, alpine, bash, ubuntu, debian)\n`,
  );
  process.stdout.write(
    `kube-sim: serving ${sim.url}\nkube-sim: kubeconfig written to ${sim.kubeconfigPath} (context kube-sim)\nkube-sim: try KUBECONFIG=${sim.kubeconfigPath} kubectl get pods -w\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`kube-sim: ${signal}, stopping (killing Pod processes)\n`);
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

await main();
