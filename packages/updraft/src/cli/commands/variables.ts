// `updraft variables …`: Airflow's variables, with its import/export file format `{ key: value }`.
import { readFileSync, writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import {
  createCipher,
  deleteVariable,
  getVariable,
  inTransaction,
  listVariables,
  setVariable,
} from "../../db/index.js";
import { withDatabase } from "../database.js";
import { printJson, printTable, resolvePath, usesDatabase, type CliContext } from "./context.js";

function notFound(key: string): UpdraftError {
  return new UpdraftError(
    "VARIABLE_NOT_FOUND",
    `Variable "${key}" does not exist. Run \`updraft variables list\` to see the keys.`,
    { details: { key } },
  );
}

/** A file's text parsed as Airflow's variables file, or VARIABLES_FILE_INVALID naming the problem. */
export function parseVariablesFile(path: string, text: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UpdraftError(
      "VARIABLES_FILE_INVALID",
      `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}). A variables file is one JSON object: {"key": "value", …}. Nothing was imported.`,
      { details: { file: path } },
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new UpdraftError(
      "VARIABLES_FILE_INVALID",
      `${path} holds ${Array.isArray(doc) ? "an array" : doc === null ? "null" : `a ${typeof doc}`}, not a JSON object: a variables file is {"key": "value", …}. Nothing was imported.`,
      { details: { file: path } },
    );
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc)) {
    // As Airflow: strings are stored as they are, anything else as its JSON text.
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/** Stored text back to the value written in an export file (JSON when it parses, as Airflow). */
function exported(val: string | null): unknown {
  if (val === null) return null;
  try {
    return JSON.parse(val);
  } catch {
    return val;
  }
}

export function registerVariablesCommands(program: Command, ctx: CliContext): void {
  const variables = program.command("variables").description("get, set, list, import and export variables");

  usesDatabase(
    variables
      .command("get")
      .description("print a variable's value")
      .argument("<key>")
      .option("--default <value>", "print this when the variable does not exist, instead of failing")
      .option("-j, --json", "parse the value as JSON and print it indented")
      .action(async (key: string, opts: { default?: string; json?: boolean }) => {
        await withDatabase(ctx, async (database, config) => {
          const v = await getVariable(database.db, createCipher(config.core.fernet_key), key);
          if (v === undefined && opts.default === undefined) throw notFound(key);
          const val = v === undefined ? (opts.default ?? "") : (v.val ?? "");
          ctx.io.out(opts.json === true ? `${JSON.stringify(exported(val), null, 2)}\n` : `${val}\n`);
        });
      }),
  );

  usesDatabase(
    variables
      .command("set")
      .description("create or replace a variable")
      .argument("<key>")
      .argument("<value>")
      .option("--description <text>", "what the variable is for")
      .action(async (key: string, value: string, opts: { description?: string }) => {
        if (key === "") throw new UpdraftError("VARIABLE_INVALID", "A variable key cannot be empty.");
        await withDatabase(ctx, async (database, config) => {
          await setVariable(database.db, createCipher(config.core.fernet_key), {
            key,
            val: value,
            description: opts.description ?? null,
          });
          ctx.io.out(`Variable ${key} set.\n`);
        });
      }),
  );

  usesDatabase(
    variables
      .command("list")
      .description("list the variables (keys and descriptions, never values)")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
      )
      .action(async (opts: { output: string }) => {
        await withDatabase(ctx, async (database) => {
          // Keys and descriptions only: values may be secrets, and need no decryption to list.
          const rows = await database.db
            .selectFrom("variable")
            .select(["key", "description"])
            .orderBy("key")
            .execute();
          if (opts.output === "json")
            printJson(
              ctx,
              rows.map((r) => ({ key: r.key, description: r.description })),
            );
          else if (rows.length === 0) ctx.io.out("No variables.\n");
          else
            printTable(
              ctx,
              ["key", "description"],
              rows.map((r) => [r.key, r.description ?? ""]),
            );
        });
      }),
  );

  usesDatabase(
    variables
      .command("delete")
      .description("delete a variable")
      .argument("<key>")
      .action(async (key: string) => {
        await withDatabase(ctx, async (database) => {
          if (!(await deleteVariable(database.db, key))) throw notFound(key);
          ctx.io.out(`Variable ${key} deleted.\n`);
        });
      }),
  );

  usesDatabase(
    variables
      .command("import")
      .description('import variables from a JSON file {"key": value, …}: all of them or none')
      .argument("<file>", "the JSON file")
      .addOption(
        new Option("--action-on-existing-key <action>", "what to do with keys that exist")
          .choices(["overwrite", "fail", "skip"])
          .default("overwrite"),
      )
      .action(async (file: string, opts: { actionOnExistingKey: string }) => {
        const path = resolvePath(ctx, file);
        let text: string;
        try {
          text = readFileSync(path, "utf8");
        } catch (err) {
          throw new UpdraftError(
            "VARIABLES_FILE_INVALID",
            `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Nothing was imported.`,
            { details: { file: path } },
          );
        }
        const values = parseVariablesFile(path, text);
        await withDatabase(ctx, async (database, config) => {
          const cipher = createCipher(config.core.fernet_key);
          const { written, skipped } = await inTransaction(database.db, async (trx) => {
            const keys = Object.keys(values);
            // Kept descriptions of existing keys; the rows stay locked until the import commits.
            const existing = new Map(
              keys.length === 0
                ? []
                : (
                    await trx
                      .selectFrom("variable")
                      .select(["key", "description"])
                      .where("key", "in", keys)
                      .forUpdate()
                      .execute()
                  ).map((r) => [r.key, r.description] as const),
            );
            if (opts.actionOnExistingKey === "fail" && existing.size > 0) {
              throw new UpdraftError(
                "VARIABLE_EXISTS",
                `These variables exist already: ${[...existing.keys()].sort().join(", ")}. Nothing was imported; use --action-on-existing-key overwrite or skip.`,
              );
            }
            let n = 0;
            for (const [key, val] of Object.entries(values)) {
              if (opts.actionOnExistingKey === "skip" && existing.has(key)) continue;
              await setVariable(trx, cipher, { key, val, description: existing.get(key) ?? null });
              n++;
            }
            return { written: n, skipped: keys.length - n };
          });
          ctx.io.out(
            `${written} of ${written + skipped} variables imported${skipped > 0 ? ` (${skipped} existing skipped)` : ""}.\n`,
          );
        });
      }),
  );

  usesDatabase(
    variables
      .command("export")
      .description('write every variable to a JSON file {"key": value, …} ("-" for stdout)')
      .argument("<file>", "the JSON file to write (mode 0600: values may be secrets)")
      .action(async (file: string) => {
        await withDatabase(ctx, async (database, config) => {
          const all = await listVariables(database.db, createCipher(config.core.fernet_key));
          const doc = Object.fromEntries(all.map((v) => [v.key, exported(v.val)]));
          const text = `${JSON.stringify(doc, null, 2)}\n`;
          if (file === "-") {
            ctx.io.out(text);
            return;
          }
          const path = resolvePath(ctx, file);
          writeFileSync(path, text, { mode: 0o600 });
          ctx.io.out(`${all.length} variables exported to ${path}.\n`);
        });
      }),
  );
}
