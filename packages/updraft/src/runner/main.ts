// Entry of a task runner process.
//   warm worker:  forked by an executor; receives workloads over IPC one at a time, answers each with
//                 a `done` message, and exits after --max-tasks workloads (default 100) or after a
//                 try that may have left it dirty (process.exit, a stray rejection, a timeout).
//   one-shot:     `node dist/runner/main.js --workload <base64 json>` runs one workload and exits
//                 (a fresh process, e.g. in a Kubernetes Pod). The exit code is 0 whenever the
//                 runner did its job, whatever the task's state.
import { parseArgs } from "node:util";
import { WorkloadSchema, type StartResponse, type Workload } from "../model/execution-api.js";
import { closeApiAgents } from "./api-client.js";
import type { FromRunner, ToRunner } from "./ipc.js";
import { exitProcess } from "./process-guard.js";
import { prepareRunnerProcess, runWorkload, type WorkloadOutcome } from "./run-workload.js";
import { realStderr } from "./stdio-capture.js";

const DEFAULT_MAX_TASKS = 100;

function fail(message: string): never {
  realStderr.write(`updraft runner: ${message}\n`);
  return exitProcess(2);
}

function send(message: FromRunner, then?: () => void): void {
  if (process.send !== undefined && process.connected) {
    process.send(message, undefined, {}, () => then?.());
  } else then?.();
}

function doneMessage(
  w: Workload,
  out: WorkloadOutcome,
  retiring: boolean,
  cpu0: NodeJS.CpuUsage,
): FromRunner {
  const cpu = process.cpuUsage(cpu0);
  return {
    type: "done",
    kind: w.kind,
    ti: w.ti,
    try_number: w.try_number,
    state: out.state,
    retiring,
    total_ms: out.totalMs,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    exec_ms: out.execMs,
    exec_cpu_ms: out.execCpuMs,
    next: out.next?.workload ?? null,
  };
}

function parseWorkload(raw: unknown): Workload {
  const parsed = WorkloadSchema.safeParse(raw);
  if (!parsed.success) fail(`the workload is not valid: ${parsed.error.message}`);
  return parsed.data;
}

async function oneShot(encoded: string): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch {
    fail("--workload must be base64-encoded JSON.");
  }
  const cpu0 = process.cpuUsage();
  const workload = parseWorkload(raw);
  const out = await runWorkload(workload);
  send(doneMessage(workload, out, true, cpu0), () => {
    closeApiAgents();
    exitProcess(0);
  });
}

function warmWorker(maxTasks: number): void {
  let busy = false;
  let ran = 0;
  let parentGone = false;
  // The executor says whether a finish may bring the next try (no workload waiting for a process).
  let handOver = false;
  const retire = () => {
    closeApiAgents();
    exitProcess(0);
  };
  /** Runs `workload`, then each try the server hands over with a finish, until none is. */
  const runChain = async (first: Workload, receivedAt: number, started?: StartResponse): Promise<void> => {
    let workload = first;
    let start = started;
    let t0 = receivedAt;
    for (;;) {
      const cpu0 = process.cpuUsage();
      const out = await runWorkload(workload, {
        receivedAt: t0,
        ...(start === undefined ? {} : { started: start }),
        // The handed-over try counts as a task of this process: none past the limit.
        acceptNext: () => handOver && !parentGone && ran + 2 <= maxTasks,
      });
      ran++;
      const next = out.next;
      const retiring = next === null && (out.dirty || ran >= maxTasks || parentGone);
      // Told before the next try runs, so that the executor knows which try this process holds.
      send(doneMessage(workload, out, retiring, cpu0), retiring ? retire : undefined);
      if (next === null) return;
      workload = next.workload;
      start = next.start;
      t0 = performance.now();
    }
  };
  process.on("message", (msg: ToRunner) => {
    const receivedAt = performance.now();
    if (msg?.type === "hand_over") {
      handOver = msg.allowed;
      return;
    }
    if (msg?.type !== "run") return;
    if (busy) {
      realStderr.write(
        "updraft runner: a workload arrived while another was running; the executor must send one at a time.\n",
      );
      return;
    }
    busy = true;
    const workload = parseWorkload(msg.workload);
    void runChain(workload, receivedAt).finally(() => {
      busy = false;
      if (parentGone) retire();
    });
  });
  // The parent is gone (e.g. the scheduler crashed): finish the running try, report it, then exit.
  process.on("disconnect", () => {
    parentGone = true;
    if (!busy) retire();
  });
}

const { values } = parseArgs({
  options: {
    workload: { type: "string" },
    "max-tasks": { type: "string" },
  },
  strict: true,
});

prepareRunnerProcess();
if (values.workload !== undefined) {
  await oneShot(values.workload);
} else if (process.send !== undefined) {
  const maxTasks = values["max-tasks"] === undefined ? DEFAULT_MAX_TASKS : Number(values["max-tasks"]);
  if (!Number.isInteger(maxTasks) || maxTasks < 1) fail("--max-tasks must be a whole number ≥ 1.");
  // Load the SDK before saying ready, so that the first task does not pay for it.
  await import("../index.js");
  warmWorker(maxTasks);
  send({ type: "ready", pid: process.pid });
} else {
  fail("run me with --workload <base64 json>, or fork me from an executor (IPC channel).");
}
