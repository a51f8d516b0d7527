import { expect, it } from "vitest";
import { parsePrometheusText } from "./prom-text.js";

it("reads types, labels with escapes, and special values; refuses garbage", () => {
  const s = parsePrometheusText(
    [
      "# HELP a_total x",
      "# TYPE a_total counter",
      'a_total{dag_id="d\\"q",task_id="t"} 3',
      "b NaN",
      "b2 Nan",
      "c +Inf 1700000000",
      "",
    ].join("\n"),
  );
  expect(s.types.get("a_total")).toBe("counter");
  expect(s.value("a_total", { dag_id: 'd"q', task_id: "t" })).toBe(3);
  expect(s.value("c")).toBe(Infinity);
  expect(Number.isNaN(s.value("b"))).toBe(true);
  expect(Number.isNaN(s.value("b2"))).toBe(true);
  expect(() => parsePrometheusText("a b c d")).toThrow(/bad sample/);
});
