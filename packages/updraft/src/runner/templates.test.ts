import { describe, expect, it } from "vitest";
import { SecretMasker } from "./masker.js";
import { renderTemplate, templateNeeds } from "./templates.js";

describe("templates", () => {
  const scope = {
    ds: "2026-01-05",
    params: { x: "{{ ds }}" },
    macros: { ds_add: (ds: string, n: number) => `${ds}+${n}` },
    var: { value: { k: "v" }, json: {} },
  };
  it("renders Jinja syntax without escaping and never re-renders inserted values", () => {
    expect(renderTemplate("a {{ ds }} <{{ macros.ds_add(ds, 7) }}> & {{ params.x }}", scope, "f", "t")).toBe(
      "a 2026-01-05 <2026-01-05+7> & {{ ds }}",
    );
  });
  it("names the undefined value and the field", () => {
    expect(() => renderTemplate("echo {{ params.missing }}", scope, "bashCommand", "t")).toThrow(
      /Template field "bashCommand" of task "t": "params.missing" is undefined/,
    );
    expect(() =>
      renderTemplate("{% if true %}\n  {{ var.value['nope'] }}{% endif %}", scope, "f", "t"),
    ).toThrow(/"var.value.nope" is undefined \(line 2/);
    expect(renderTemplate("{{ params.missing | default('d') }}", scope, "f", "t")).toBe("d");
  });
  it("finds the variables and connections a template reads", () => {
    const needs = templateNeeds([
      "{{ var.value.a }} {{ var.json.b.c }} {{ var.value['d-e'] }} {{ conn.wh.host }}",
    ]);
    expect([...needs.variables]).toEqual(["a", "b", "d-e"]);
    expect([...needs.connections]).toEqual(["wh"]);
  });
});

describe("secret masker", () => {
  it("masks secrets and their JSON and URL forms, longest first", () => {
    const m = new SecretMasker();
    m.add("p@ss word");
    m.add("abc"); // too short to mask safely
    expect(m.mask("x p@ss word y p%40ss%20word abc")).toBe("x *** y *** abc");
    expect(m.maskDeep({ a: ["p@ss word"], api_key: "other" })).toEqual({ a: ["***"], api_key: "***" });
  });
});
