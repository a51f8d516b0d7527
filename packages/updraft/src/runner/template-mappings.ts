// `params`, `var` and `conn` in templates behave as Airflow's mappings and accessors do
// (airflow/utils/context.py: VariableAccessor, ConnectionAccessor; ParamsDict): `params.get('x', d)`,
// `params['x']`, `var.value.get('k', d)`, `var.json.k.nested`, `conn.id.extra_dejson.key`. A missing
// variable or connection is an error naming it and how to create it, as Airflow raises rather
// than printing an empty value. Values are fetched before rendering (nunjucks is synchronous), so a
// name the template computes at render time cannot be fetched and says so.
import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";

const PASS_THROUGH = new Set([
  "toString",
  "valueOf",
  "toJSON",
  "then",
  "constructor",
  "inspect",
  "__keywords",
]);

/** `params`: a plain object with Python's dict methods. */
export class TemplateParams {
  constructor(values: Readonly<Record<string, unknown>>) {
    Object.assign(this, values);
  }
  /** Like `dict.get`: the value, or `defaultValue` (Python's None when not given). */
  get(key: string, defaultValue: unknown = null): unknown {
    return Object.hasOwn(this, key) ? (this as Record<string, unknown>)[key] : defaultValue;
  }
  keys(): string[] {
    return Object.keys(this);
  }
  values(): unknown[] {
    return Object.values(this);
  }
  items(): [string, unknown][] {
    return Object.entries(this);
  }
}

/** An accessor whose unknown names are looked up (and may throw) rather than reading as undefined. */
function lookupProxy<T extends object>(target: T, lookup: (name: string) => unknown): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === "symbol" || prop in t || PASS_THROUGH.has(prop))
        return Reflect.get(t, prop, receiver) as unknown;
      return lookup(prop);
    },
  });
}

/** Which names were fetched before rendering (all of them when not given). */
export type Requested = ReadonlySet<string> | undefined;

function notFetched(kind: "Variable" | "Connection", name: string, form: string): UpdraftError {
  return new UpdraftError(
    kind === "Variable" ? "VARIABLE_NOT_FOUND" : "CONNECTION_NOT_FOUND",
    `${kind} "${name}" was not fetched before rendering: a template must name it literally (${form}) so the runner can fetch it first.`,
    { details: { name } },
  );
}

function missingVariable(key: string, form: "value" | "json"): UpdraftError {
  return new UpdraftError(
    "VARIABLE_NOT_FOUND",
    `Variable "${key}" does not exist. Create it with \`updraft variables set ${key} VALUE\`, or give a default: {{ var.${form}.get('${key}', 'fallback') }}.`,
    { details: { key } },
  );
}

/** `var.value` and `var.json`. */
export function templateVariables(
  variables: ReadonlyMap<string, string>,
  requested: Requested,
): { value: object; json: object } {
  const raw = (key: string, form: "value" | "json"): string | undefined => {
    const v = variables.get(key);
    if (v === undefined && requested !== undefined && !requested.has(key))
      throw notFetched(
        "Variable",
        key,
        `var.${form}.${key}, var.${form}['${key}'] or var.${form}.get('${key}')`,
      );
    return v;
  };
  const parsed = (key: string, text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UpdraftError(
        "VARIABLE_NOT_JSON",
        `Variable "${key}" is not valid JSON, so var.json cannot read it; use var.value.${key} for its text.`,
        { details: { key } },
      );
    }
  };
  const value = lookupProxy(
    {
      get(key: string, defaultValue?: unknown): unknown {
        const v = raw(String(key), "value");
        if (v !== undefined) return v;
        if (defaultValue !== undefined) return defaultValue;
        throw missingVariable(String(key), "value");
      },
    },
    (key) => {
      const v = raw(key, "value");
      if (v === undefined) throw missingVariable(key, "value");
      return v;
    },
  );
  const json = lookupProxy(
    {
      get(key: string, defaultValue?: unknown): unknown {
        const v = raw(String(key), "json");
        if (v !== undefined) return parsed(String(key), v);
        if (defaultValue !== undefined) return defaultValue;
        throw missingVariable(String(key), "json");
      },
    },
    (key) => {
      const v = raw(key, "json");
      if (v === undefined) throw missingVariable(key, "json");
      return parsed(key, v);
    },
  );
  return { value, json };
}

/** A connection as Airflow's Connection model shows it to templates. */
export interface TemplateConnection {
  conn_id: string;
  conn_type: string;
  host: string | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  port: number | null;
  /** The extras as JSON text (Airflow stores `extra` as text); `{}` when there are none. */
  extra: string;
  extra_dejson: Record<string, unknown>;
  get_uri(): string;
  getUri(): string;
}

function asTemplateConnection(c: Connection): TemplateConnection {
  return {
    conn_id: c.conn_id,
    conn_type: c.conn_type,
    host: c.host,
    login: c.login,
    password: c.password,
    schema: c.schema,
    port: c.port,
    extra: JSON.stringify(c.extra),
    extra_dejson: c.extra,
    get_uri: () => c.getUri(),
    getUri: () => c.getUri(),
  };
}

/** `conn`: `conn.id`, `conn['id']`, `conn.get('id', default)`. */
export function templateConnections(
  connections: ReadonlyMap<string, Connection>,
  requested: Requested,
): object {
  const find = (id: string): TemplateConnection | undefined => {
    const c = connections.get(id);
    if (c === undefined && requested !== undefined && !requested.has(id))
      throw notFetched("Connection", id, `conn.${id}, conn['${id}'] or conn.get('${id}')`);
    return c === undefined ? undefined : asTemplateConnection(c);
  };
  const missing = (id: string) =>
    new UpdraftError(
      "CONNECTION_NOT_FOUND",
      `Connection "${id}" does not exist. Create it with \`updraft connections add ${id} --conn-type TYPE --conn-host HOST …\`.`,
      { details: { conn_id: id } },
    );
  return lookupProxy(
    {
      get(id: string, defaultValue?: unknown): unknown {
        const c = find(String(id));
        if (c !== undefined) return c;
        if (defaultValue !== undefined) return defaultValue;
        throw missing(String(id));
      },
    },
    (id) =>
      find(id) ??
      (() => {
        throw missing(id);
      })(),
  );
}
