// `updraft config …`: the effective configuration and where each value came from.
import { Option, type Command } from "commander";
import { getConfigValue, listConfig, loadConfig } from "../../config/index.js";
import { cell, printJson, printTable, type CliContext } from "./context.js";

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command("config").description("show the configuration");

  config
    .command("list")
    .description("every setting with its value and source (secrets hidden unless asked)")
    .option("--include-secrets", "show the values of secret settings")
    .option("--section <section>", "only this section")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action((opts: { includeSecrets?: boolean; section?: string; output: string }) => {
      const rows = listConfig(loadConfig(), { includeSecrets: opts.includeSecrets === true }).filter(
        (r) => opts.section === undefined || r.section === opts.section,
      );
      if (opts.output === "json") {
        printJson(
          ctx,
          rows.map((r) => ({
            section: r.section,
            key: r.key,
            value: r.value,
            source: r.source,
            secret: r.secret,
          })),
        );
      } else {
        printTable(
          ctx,
          ["section", "key", "value", "source"],
          rows.map((r) => [r.section, r.key, cell(r.value), r.source]),
        );
      }
    });

  config
    .command("get-value")
    .description("print the value of one setting")
    .argument("<section>", "the section, such as core")
    .argument("<key>", "the key, such as parallelism")
    .action((section: string, key: string) => {
      const value = getConfigValue(loadConfig(), section, key);
      ctx.io.out(`${cell(value)}\n`);
    });
}
