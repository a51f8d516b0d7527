// Airflow 2.10 template parity: filters, macros, params/var/conn mappings and native rendering.
// Expected values are Python's (computed with python3's datetime/json/ast) or pendulum's rules.
import { describe, expect, it } from "vitest";
import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";
import { diffForHumans } from "./humanize.js";
import { pythonLiteral } from "./python-literal.js";
import { TemplateDate } from "./template-date.js";
import { AIRFLOW_FILTERS } from "./template-filters.js";
import { templateMacros } from "./template-macros.js";
import { TemplateParams, templateConnections, templateVariables } from "./template-mappings.js";
import { TemplateRenderer, renderTemplate, templateNeeds } from "./templates.js";

const end = new TemplateDate(Date.parse("2026-03-07T04:05:06Z"));
const connection: Connection = {
  conn_id: "wh",
  conn_type: "postgres",
  host: "db.internal",
  schema: "dw",
  login: "etl",
  password: "secret",
  port: 5432,
  extra: { sslmode: "require", opts: { timeout: 5 } },
  getUri: () => "postgres://etl:secret@db.internal:5432/dw",
};
const variables = new Map([
  ["plain", "text"],
  ["cfg", '{"bucket": "b1", "limits": {"rows": 10}, "ids": [3, 4]}'],
]);
const scope = (): Record<string, unknown> => ({
  ds: "2026-03-07",
  data_interval_end: end,
  logical_date: end,
  nothing: null,
  params: new TemplateParams({ x: "px", n: 3 }),
  var: templateVariables(variables, new Set(["plain", "cfg", "absent"])),
  conn: templateConnections(new Map([["wh", connection]]), new Set(["wh", "gone"])),
  macros: templateMacros(() => Date.parse("2026-03-07T06:05:06Z")),
});
const r = (src: string) => renderTemplate(src, scope(), "f", "t");
const thrown = (f: () => unknown): UpdraftError => {
  try {
    f();
  } catch (err) {
    if (err instanceof UpdraftError) return err;
    throw err;
  }
  throw new Error("did not throw");
};

describe("Airflow's filters", () => {
  // airflow/templates.py: ds_filter, ds_nodash_filter, ts_filter, ts_nodash_filter, ts_nodash_with_tz_filter
  it("format dates as Airflow's FILTERS do", () => {
    expect(r("{{ data_interval_end | ds }}")).toBe("2026-03-07");
    expect(r("{{ data_interval_end | ds_nodash }}")).toBe("20260307");
    expect(r("{{ logical_date | ts }}")).toBe("2026-03-07T04:05:06+00:00");
    expect(r("{{ logical_date | ts_nodash }}")).toBe("20260307T040506");
    expect(r("{{ logical_date | ts_nodash_with_tz }}")).toBe("20260307T040506+0000");
    // Python: datetime(2026,3,7,4,5,6,250000,tzinfo=utc).isoformat().replace("-","").replace(":","")
    const withMs = new TemplateDate(Date.parse("2026-03-07T04:05:06.250Z"));
    expect(renderTemplate("{{ d | ts_nodash_with_tz }}", { d: withMs }, "f", "t")).toBe(
      "20260307T040506.250000+0000",
    );
    // None passes through as None.
    expect(AIRFLOW_FILTERS["ds"]?.(null)).toBe(null);
    expect(() => r("{{ ds | ds }}")).toThrow(/Filter "ds" needs a date/);
    expect(() => r("{{ logical_date | ts_nodash_with_ts }}")).toThrow(
      /unknown filter "ts_nodash_with_ts"; did you mean ts_nodash_with_tz\?/,
    );
    expect(() => r("{{ ds + }}")).toThrow(/could not be rendered: unexpected token: }} \(line 1, column 9\)/);
  });
});

describe("params, var and conn as mappings", () => {
  // airflow/models/param.py: ParamsDict (a MutableMapping: get, [], attribute access in Jinja)
  it("reads params as a dict", () => {
    expect(
      r("{{ params.get('x', 'd') }} {{ params.get('missing', 'd') }} {{ params['n'] }} {{ params.x }}"),
    ).toBe("px d 3 px");
    expect(r("{% for k, v in params.items() %}{{ k }}={{ v }};{% endfor %}")).toBe("x=px;n=3;");
  });

  // airflow/utils/context.py: VariableAccessor.__getattr__ and .get(key, default)
  it("reads variables through var.value and var.json", () => {
    expect(r("{{ var.value.plain }} {{ var.value['plain'] }} {{ var.value.get('plain') }}")).toBe(
      "text text text",
    );
    expect(r("{{ var.value.get('absent', 'fallback') }}")).toBe("fallback");
    expect(
      r("{{ var.json.cfg.bucket }} {{ var.json['cfg'].limits.rows }} {{ var.json.get('cfg').ids[1] }}"),
    ).toBe("b1 10 4");
    expect(r("{{ var.json.get('absent', 'none') }}")).toBe("none");
    const missing = thrown(() => r("{{ var.value.absent }}"));
    expect(missing.code).toBe("VARIABLE_NOT_FOUND");
    expect(missing.message).toMatch(/Template field "f" of task "t": Variable "absent" does not exist/);
    expect(missing.message).toContain("updraft variables set absent VALUE");
    expect(thrown(() => r("{{ var.json.plain }}")).code).toBe("VARIABLE_NOT_JSON");
    // A name the template computes could not be fetched first: the error says so.
    expect(thrown(() => r("{{ var.value['pl' ~ 'ain2'] }}")).message).toMatch(/not fetched before rendering/);
  });

  // airflow/utils/context.py: ConnectionAccessor; airflow/models/connection.py: Connection.extra_dejson
  it("reads connections through conn", () => {
    expect(
      r(
        "{{ conn.wh.host }}:{{ conn['wh'].port }} {{ conn.wh.login }} {{ conn.wh.schema }} {{ conn.wh.conn_type }}",
      ),
    ).toBe("db.internal:5432 etl dw postgres");
    expect(r("{{ conn.wh.extra_dejson.sslmode }} {{ conn.wh.extra_dejson.opts.timeout }}")).toBe("require 5");
    expect(JSON.parse(r("{{ conn.wh.extra }}"))).toEqual(connection.extra);
    expect(r("{{ conn.get('wh').password }}")).toBe("secret");
    const missing = thrown(() => r("{{ conn.gone.host }}"));
    expect(missing.code).toBe("CONNECTION_NOT_FOUND");
    expect(missing.message).toContain("updraft connections add gone");
  });

  it("fetches every variable and connection the access forms name", () => {
    const needs = templateNeeds([
      "{{ var.value.a }} {{ var.json.b.c }} {{ var.value['d-e'] }} {{ var.value.get('f', 'x') }} {{ var.json.get(\"g\") }}",
      "{{ conn.wh.host }} {{ conn['w2'].login }} {{ conn.get('w3').port }}",
    ]);
    expect([...needs.variables].sort()).toEqual(["a", "b", "d-e", "f", "g"]);
    expect([...needs.connections].sort()).toEqual(["w2", "w3", "wh"]);
  });
});

describe("macros", () => {
  // airflow/macros/__init__.py: ds_add, ds_format
  it("ds_add and ds_format", () => {
    expect(
      r("{{ macros.ds_add(ds, 5) }} {{ macros.ds_add('2015-01-06', -5) }} {{ macros.ds_add('x', 0) }}"),
    ).toBe("2026-03-12 2015-01-01 x");
    expect(r("{{ macros.ds_format('2015-01-01', '%Y-%m-%d', '%m-%d-%y') }}")).toBe("01-01-15");
    expect(r("{{ macros.ds_format('1/5/2015', '%m/%d/%Y', '%Y-%m-%d') }}")).toBe("2015-01-05");
  });

  // airflow/macros/__init__.py imports datetime and timedelta; values from python3's datetime
  it("datetime and timedelta as Python's", () => {
    expect(r("{{ macros.datetime(2026, 1, 5) }}")).toBe("2026-01-05 00:00:00");
    expect(r("{{ macros.datetime(2026, 1, 5, hour=3).isoformat() }}")).toBe("2026-01-05T03:00:00");
    expect(r("{{ macros.datetime(2026, 1, 5) + macros.timedelta(days=1, hours=2) }}")).toBe(
      "2026-01-06 02:00:00",
    );
    expect(r("{{ macros.timedelta(days=1, hours=2, minutes=3, seconds=4) }}")).toBe("1 day, 2:03:04");
    expect(r("{{ macros.timedelta(hours=-1) }} | {{ macros.timedelta(seconds=0.5) }}")).toBe(
      "-1 day, 23:00:00 | 0:00:00.500000",
    );
    expect(r("{{ macros.timedelta(hours=36).total_seconds() }}")).toBe("129600");
    expect(r("{{ macros.datetime(2026, 3, 7, 4, 5, 6) - macros.datetime(2026, 3, 5) }}")).toBe(
      "2 days, 4:05:06",
    );
    expect(r("{{ (data_interval_end - macros.timedelta(days=1)) | ds }}")).toBe("2026-03-06");
    expect(
      r("{{ logical_date.add(days=1) | ds }} {{ logical_date.subtract(months=1).strftime('%Y-%m') }}"),
    ).toBe("2026-03-08 2026-02");
    expect(r("{{ macros.datetime.strptime('2026-01-05 10:30', '%Y-%m-%d %H:%M') }}")).toBe(
      "2026-01-05 10:30:00",
    );
    expect(
      r("{{ macros.datetime(2026, 1, 31).replace(day=1) }} {{ macros.datetime(2026, 1, 5).weekday() }}"),
    ).toBe("2026-01-01 00:00:00 0");
    expect(r("{{ macros.datetime.utcnow() }} {{ macros.datetime.now().year }}")).toBe(
      "2026-03-07 06:05:06 2026",
    );
    expect(() => r("{{ macros.datetime(2026, 2, 30) }}")).toThrow(/day is out of range/);
    expect(() => r("{{ macros.timedelta(fortnights=1) }}")).toThrow(/unknown argument "fortnights"/);
  });

  // airflow/macros/__init__.py imports json, time, uuid and random
  it("json, time, uuid and random", () => {
    expect(r("{{ macros.json.dumps({'a': [1, 'é'], 'b': none}) }}")).toBe('{"a": [1, "\\u00e9"], "b": null}');
    expect(r("{{ macros.json.dumps({'b': 1, 'a': 2}, sort_keys=true, indent=2) }}")).toBe(
      '{\n  "a": 2,\n  "b": 1\n}',
    );
    expect(r("{{ macros.json.loads('{\"k\": [7]}').k[0] }}")).toBe("7");
    expect(r("{{ macros.time.time() }}")).toBe(String(Date.parse("2026-03-07T06:05:06Z") / 1000));
    expect(r("{{ macros.uuid.uuid4() }}")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(r("{{ macros.uuid.uuid4().hex }}")).toMatch(/^[0-9a-f]{32}$/);
    const x = Number(r("{{ macros.random() }}"));
    expect(x >= 0 && x < 1).toBe(true);
  });

  // airflow/macros/__init__.py: datetime_diff_for_humans → pendulum DifferenceFormatter.format
  it("datetime_diff_for_humans in pendulum's words", () => {
    const now = Date.parse("2026-03-07T12:00:00Z");
    const at = (iso: string) => new Date(iso);
    const h = (iso: string, since?: string) =>
      diffForHumans(at(iso), since === undefined ? undefined : at(since), () => now);
    expect(h("2026-03-07T10:00:00Z")).toBe("2 hours ago");
    expect(h("2026-03-10T12:00:00Z")).toBe("in 3 days");
    expect(h("2026-03-07T11:59:55Z")).toBe("a few seconds ago");
    expect(h("2026-03-07T11:59:30Z")).toBe("30 seconds ago");
    expect(h("2026-03-07T11:59:00Z")).toBe("1 minute ago");
    expect(h("2026-03-04T13:00:00Z")).toBe("3 days ago"); // 2 days 23 h: pendulum rounds up from 22 h
    expect(h("2026-02-21T12:00:00Z")).toBe("2 weeks ago");
    expect(h("2026-02-07T12:00:00Z")).toBe("1 month ago");
    expect(h("2024-08-07T12:00:00Z")).toBe("2 years ago"); // 1 year 7 months
    expect(h("2026-03-07T12:00:00Z", "2026-03-07T10:00:00Z")).toBe("2 hours after");
    expect(h("2026-03-06T12:00:00Z", "2026-03-07T12:00:00Z")).toBe("1 day before");
    expect(r("{{ macros.datetime_diff_for_humans(logical_date) }}")).toBe("2 hours ago");
    expect(
      r("{{ macros.datetime_diff_for_humans(logical_date, since=data_interval_end.add(days=2)) }}"),
    ).toBe("2 days before");
  });

  it("names an unknown macro and the nearest known one", () => {
    const err = thrown(() => r("{{ macros.ds_addd(ds, 1) }}"));
    expect(err.code).toBe("UNKNOWN_MACRO");
    expect(err.message).toMatch(
      /unknown macro ds_addd; known macros: ds_add, ds_format, datetime, .*; did you mean ds_add\?/,
    );
  });
});

describe("DAG template settings", () => {
  it("adds the DAG's own macros and filters", () => {
    const renderer = new TemplateRenderer({
      userDefinedMacros: { env: "prod", bucket: (ds: string) => `s3://b/${ds}`, ds: "shadowed" },
      userDefinedFilters: { shout: (s: string, n = 1) => `${s.toUpperCase()}${"!".repeat(n)}` },
    });
    expect(
      renderer.render(
        "{{ env }} {{ bucket(ds) }} {{ params.x | shout }} {{ 'a' | shout(3) }}",
        scope(),
        "f",
        "t",
      ),
    ).toBe("prod s3://b/2026-03-07 PX! A!!!");
    const asyncMacro = new TemplateRenderer({ userDefinedMacros: { later: () => Promise.resolve(1) } });
    expect(() => asyncMacro.render("{{ later() }}", scope(), "f", "t")).toThrow(
      /userDefinedMacros.later returned a Promise/,
    );
  });

  // airflow/templates.py: NativeEnvironment (jinja2.nativetypes.native_concat + ast.literal_eval)
  it("renders native values only when the text is a Python literal", () => {
    const native = new TemplateRenderer({ renderTemplateAsNativeObj: true });
    const n = (src: string, extra: Record<string, unknown> = {}) =>
      native.render(src, { ...scope(), ...extra }, "f", "t");
    expect(n("{{ params.n }}")).toBe(3);
    expect(n("{{ params.n + 1 }}")).toBe(4);
    expect(n("[{{ params.n }}, '{{ params.x }}']")).toEqual([3, "px"]);
    expect(n("{{ {'a': 1, 'b': [true, none]} }}")).toEqual({ a: 1, b: [true, null] });
    expect(n("{{ lst }}", { lst: [1, 2] })).toEqual([1, 2]);
    expect(n("{{ s }}", { s: "{'k': (1, 2)}" })).toEqual({ k: [1, 2] });
    expect(n("True")).toBe(true);
    expect(n("None")).toBe(null);
    expect(n("{{ ds }}")).toBe("2026-03-07"); // 2026-03-07 is arithmetic with a leading zero: not a literal
    expect(n("{{ ds_nodash }}", { ds_nodash: "20260307" })).toBe(20260307);
    expect(n("hello {{ params.x }}")).toBe("hello px");
    expect(n("{% if false %}x{% endif %}")).toBe(null);
    expect(() => n("{{ params.missing }}")).toThrow(/"params.missing" is undefined/);
    // Text rendering is unchanged when the setting is off.
    expect(new TemplateRenderer().render("{{ params.n }}", scope(), "f", "t")).toBe("3");
  });

  it("parses Python literals as ast.literal_eval does", () => {
    // python3 -c "import ast; print(ast.literal_eval(ast.parse(TEXT, mode='eval')))"
    const ok = (t: string) => {
      const v = pythonLiteral(t);
      return v.ok ? v.value : "<not a literal>";
    };
    expect(ok("1, 2")).toEqual([1, 2]);
    expect(ok("(1,)")).toEqual([1]);
    expect(ok("(1)")).toBe(1);
    expect(ok("0x1f")).toBe(31);
    expect(ok("1_000")).toBe(1000);
    expect(ok("-1.5e2")).toBe(-150);
    expect(ok("'a' \"b\"")).toBe("ab");
    expect(ok("'tab\\there'")).toBe("tab\there");
    expect(ok("{1: 'x', 'k': None}")).toEqual({ "1": "x", k: null });
    expect(ok("1 # comment")).toBe(1);
    expect(ok("01")).toBe("<not a literal>");
    expect(ok("--1")).toBe("<not a literal>");
    expect(ok(" 1")).toBe("<not a literal>");
    expect(ok("hello")).toBe("<not a literal>");
    expect(ok("f'x'")).toBe("<not a literal>");
    expect(ok("2026-03-07")).toBe("<not a literal>");
  });
});
