// The `updraft` command tree. Each command group registers itself here.
import { Command } from "commander";
import { UPDRAFT_VERSION } from "../processor/index.js";
import { registerDagsCommands } from "./commands/dags.js";

export function buildProgram(): Command {
  const program = new Command("updraft")
    .description(
      "Updraft: workflow orchestration for TypeScript. DAGs in code, scheduled, retried and recorded.",
    )
    .version(UPDRAFT_VERSION)
    .showHelpAfterError("(run with --help for usage)");
  registerDagsCommands(program);
  return program;
}
