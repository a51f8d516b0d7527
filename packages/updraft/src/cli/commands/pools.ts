// `updraft pools …`: named slot limits shared by tasks.
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { deletePool, getPool, listPools, setPool, type PoolRow } from "../../db/index.js";
import { withDatabase } from "../database.js";
import { parseIntOption, printJson, printTable, usesDatabase, type CliContext } from "./context.js";

function notFound(name: string): UpdraftError {
  return new UpdraftError(
    "POOL_NOT_FOUND",
    `Pool "${name}" does not exist. Run \`updraft pools list\` to see the pools.`,
    { details: { pool: name } },
  );
}

function print(ctx: CliContext, pools: readonly PoolRow[], output: string): void {
  const rows = pools.map((p) => ({
    pool: p.pool,
    slots: p.slots,
    description: p.description,
    include_deferred: p.include_deferred,
  }));
  if (output === "json") {
    printJson(ctx, rows);
    return;
  }
  printTable(
    ctx,
    ["pool", "slots", "description", "include_deferred"],
    rows.map((r) => [r.pool, String(r.slots), r.description ?? "", String(r.include_deferred)]),
  );
}

const output = (): Option =>
  new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table");

export function registerPoolsCommands(program: Command, ctx: CliContext): void {
  const pools = program.command("pools").description("set, get, list and delete pools");

  usesDatabase(
    pools
      .command("set")
      .description("create or update a pool")
      .argument("<name>")
      .argument("<slots>", "slots, or -1 for unlimited")
      .argument("<description>")
      .option("--include-deferred", "count deferred tasks against the slots")
      .addOption(output())
      .action(
        async (
          name: string,
          slots: string,
          description: string,
          opts: { includeDeferred?: boolean; output: string },
        ) => {
          if (name === "") throw new UpdraftError("POOL_INVALID", "A pool name cannot be empty.");
          const n = parseIntOption("SLOTS", slots, -1);
          await withDatabase(ctx, async (database) => {
            const row = await setPool(database.db, {
              pool: name,
              slots: n,
              description,
              includeDeferred: opts.includeDeferred === true,
            });
            print(ctx, [row], opts.output);
          });
        },
      ),
  );

  usesDatabase(
    pools
      .command("get")
      .description("show a pool")
      .argument("<name>")
      .addOption(output())
      .action(async (name: string, opts: { output: string }) => {
        await withDatabase(ctx, async (database) => {
          const row = await getPool(database.db, name);
          if (row === undefined) throw notFound(name);
          print(ctx, [row], opts.output);
        });
      }),
  );

  usesDatabase(
    pools
      .command("list")
      .description("list the pools")
      .addOption(output())
      .action(async (opts: { output: string }) => {
        await withDatabase(ctx, async (database) => print(ctx, await listPools(database.db), opts.output));
      }),
  );

  usesDatabase(
    pools
      .command("delete")
      .description("delete a pool (default_pool cannot be deleted)")
      .argument("<name>")
      .action(async (name: string) => {
        await withDatabase(ctx, async (database) => {
          if (!(await deletePool(database.db, name))) throw notFound(name);
          ctx.io.out(`Pool ${name} deleted.\n`);
        });
      }),
  );
}
