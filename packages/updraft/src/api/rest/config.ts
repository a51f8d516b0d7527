// The configuration, as Airflow 2's config endpoint: GET /config (optionally one `section`) and
// GET /config/section/{section}/option/{option}, as JSON or, with `Accept: text/plain`, as
// ini-like text. webserver.expose_config decides: "false" refuses with 403 (the default: the
// configuration holds where the database and secrets are), "true" shows every value,
// "non-sensitive-only" shows secrets as "< hidden >". One option asked by name always hides a
// secret, as Airflow's get_value does. Values are read from the server's loaded configuration
// only; the permission is config:read (Op and Admin).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { HIDDEN, listConfig, type ConfigRow, type UpdraftConfig } from "../../config/index.js";
import { route } from "./common.js";

const ConfigOption = z.object({ key: z.string(), value: z.string() }).meta({ id: "ConfigOption" });
const ConfigSection = z
  .object({ name: z.string(), options: z.array(ConfigOption) })
  .meta({ id: "ConfigSection" });
const Config = z.object({ sections: z.array(ConfigSection) }).meta({ id: "Config" });
type ConfigJson = z.infer<typeof Config>;

/** Section and option names are identifiers: anything else (`../`, NUL) is refused before the handler. */
const Name = z
  .string()
  .min(1)
  .max(250)
  .regex(/^[A-Za-z0-9_]+$/, "must be letters, digits and _");
const ConfigQuery = z.object({ section: Name.optional() });
const OptionPath = z.object({ section: Name, option: Name });

/** A value as Airflow's config shows it: always a string; unset is "". */
function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function toJson(rows: readonly ConfigRow[]): ConfigJson {
  const sections = new Map<string, { key: string; value: string }[]>();
  for (const r of rows) {
    const options = sections.get(r.section) ?? [];
    options.push({ key: r.key, value: text(r.value) });
    sections.set(r.section, options);
  }
  return { sections: [...sections].map(([name, options]) => ({ name, options })) };
}

/** `[section]` then `key = value` lines, sections separated by a blank line (Airflow's text form). */
function toText(config: ConfigJson): string {
  return config.sections
    .map((s) => `[${s.name}]\n${s.options.map((o) => `${o.key} = ${o.value}`).join("\n")}\n`)
    .join("\n");
}

function send(request: FastifyRequest, reply: FastifyReply, config: ConfigJson): ConfigJson {
  if (!(request.headers.accept ?? "").includes("text/plain")) return config;
  // A string with a non-JSON content type bypasses the JSON serializer; the schema types the JSON reply.
  return reply.type("text/plain; charset=utf-8").send(toText(config)) as unknown as ConfigJson;
}

export function configRoutes(config: UpdraftConfig) {
  function exposure(): { sensitive: boolean } {
    const expose = config.webserver.expose_config;
    if (expose === "false") {
      throw new UpdraftError(
        "FORBIDDEN",
        "The administrator chose not to expose the configuration (webserver.expose_config is false), most likely for security reasons. Set it to non-sensitive-only (secrets hidden) or true to allow GET /api/v1/config.",
        { details: { setting: "webserver.expose_config" } },
      );
    }
    return { sensitive: expose === "true" };
  }
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Config"];

    const all = { querystring: ConfigQuery, response: { 200: Config } };
    app.get("/config", route("get_config", "Get the configuration", tags, all), async (request, reply) => {
      const { sensitive } = exposure();
      const section = request.query.section?.toLowerCase();
      // Hidden whether set or not, so that the reply does not even tell which secrets are set.
      let rows = listConfig(config, { includeSecrets: sensitive }).map((r) =>
        r.secret && !sensitive ? { ...r, value: HIDDEN } : r,
      );
      if (section !== undefined) {
        rows = rows.filter((r) => r.section === section);
        if (rows.length === 0) {
          throw new UpdraftError("NOT_FOUND", `There is no config section "${request.query.section}".`, {
            details: { section: request.query.section },
          });
        }
      }
      return send(request, reply, toJson(rows));
    });

    const one = { params: OptionPath, response: { 200: Config } };
    const oneRoute = route("get_value", "Get one configuration option", tags, one);
    app.get("/config/section/:section/option/:option", oneRoute, async (request, reply) => {
      exposure();
      const section = request.params.section.toLowerCase();
      const option = request.params.option.toLowerCase();
      const row = listConfig(config).find((r) => r.section === section && r.key === option);
      if (row === undefined) {
        throw new UpdraftError(
          "NOT_FOUND",
          `The option [${request.params.section}/${request.params.option}] is not in the configuration. GET /api/v1/config lists every option.`,
          { details: { section: request.params.section, option: request.params.option } },
        );
      }
      // A secret asked for by name is hidden even when expose_config is true, as Airflow's.
      const value = row.secret ? HIDDEN : text(row.value);
      return send(request, reply, { sections: [{ name: row.section, options: [{ key: row.key, value }] }] });
    });
  };
}
