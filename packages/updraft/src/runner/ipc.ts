// Messages between an executor and a runner process over the IPC channel of `child_process.fork`
// (shapes in model/runner-ipc.ts, shared with the executor).
import type { FromRunner, ToRunner } from "../model/runner-ipc.js";

export type { FromRunner, ToRunner };
