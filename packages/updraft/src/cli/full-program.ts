// The whole command tree of the `updraft` binary: the database commands (which may also run
// inside the server, see remote.ts) plus the long-running and foreground commands.
import type { Command } from "commander";
import { registerEngineCommands } from "./commands/engine.js";
import { registerTasksRunCommand, registerTestRunCommands } from "./commands/test-run.js";
import { registerWorkerCommand } from "./commands/worker.js";
import { buildProgram } from "./program.js";

export function buildFullProgram(): Command {
  const program = buildProgram();
  registerEngineCommands(program);
  registerTestRunCommands(program);
  registerTasksRunCommand(program);
  registerWorkerCommand(program);
  return program;
}
