// The `updraft` command tree. Each command group registers itself here.
import { Command } from "commander";
import { UpdraftError } from "../common/errors.js";
import { UPDRAFT_VERSION } from "../common/version.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerConnectionsCommands } from "./commands/connections.js";
import { isDatabaseCommand, localContext, type CliContext } from "./commands/context.js";
import { registerDagRunCommands } from "./commands/dag-runs.js";
import { registerDagsCommands } from "./commands/dags.js";
import { registerDbCommands } from "./commands/db.js";
import { registerPoolsCommands } from "./commands/pools.js";
import { registerTasksCommands } from "./commands/tasks.js";
import { registerUsersCommands } from "./commands/users.js";
import { registerVariablesCommands } from "./commands/variables.js";
import { registerWorkersCommands } from "./commands/workers.js";

/**
 * The command tree. Without `ctx` it talks to this process's terminal; `runCliRemotely` passes a
 * context that captures output and carries the server's open database.
 */
export function buildProgram(ctx: CliContext = localContext(process.argv.slice(2))): Command {
  const program = new Command("updraft")
    .description(
      "Updraft: workflow orchestration for TypeScript. DAGs in code, scheduled, retried and recorded.",
    )
    .version(UPDRAFT_VERSION)
    .showHelpAfterError("(run with --help for usage)");
  if (ctx.database !== undefined) {
    // Inside the server: commander must neither exit the process nor write to its streams.
    // Both settings are inherited by every subcommand created below.
    program.exitOverride().configureOutput({
      writeOut: (text) => ctx.io.out(text),
      writeErr: (text) => ctx.io.err(text),
    });
    program.hook("preAction", (_root, action) => {
      if (!isDatabaseCommand(action)) {
        throw new UpdraftError(
          "CLI_NOT_REMOTE",
          `\`updraft ${action.parent === null ? "" : `${action.parent.name()} `}${action.name()}\` does not use the metadata database: run it directly instead of through the server.`,
        );
      }
    });
  }
  registerDagsCommands(program);
  const dags = program.commands.find((c) => c.name() === "dags");
  if (dags === undefined) throw new Error("the dags command group is missing");
  registerDagRunCommands(dags, ctx);
  registerTasksCommands(program, ctx);
  registerDbCommands(program, ctx);
  registerConfigCommands(program, ctx);
  registerVariablesCommands(program, ctx);
  registerConnectionsCommands(program, ctx);
  registerPoolsCommands(program, ctx);
  registerUsersCommands(program, ctx);
  registerWorkersCommands(program, ctx);
  return program;
}
