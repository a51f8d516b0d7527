import { describe, expect, it } from "vitest";
import type { TaskInstanceInfo } from "../sdk/context.js";
import { fetchXComs, templateTaskInstance, xcomCalls } from "./template-xcom.js";
import { TemplateRenderer } from "./templates.js";

/** A task instance whose XComs are a table, as the execution API would answer them. */
function taskInstance(table: Record<string, unknown>): TaskInstanceInfo & { pulls: string[] } {
  const pulls: string[] = [];
  return {
    dag_id: "d",
    task_id: "t",
    run_id: "r",
    map_index: -1,
    try_number: 1,
    max_tries: 1,
    hostname: "h",
    pulls,
    xcomPull<T>(taskId: string, o: { key?: string; mapIndex?: number } = {}): Promise<T | undefined> {
      const k = `${taskId}|${o.key ?? "return_value"}|${o.mapIndex ?? ""}`;
      pulls.push(k);
      return Promise.resolve(table[k] as T | undefined);
    },
    xcomPush: () => Promise.resolve(),
  };
}

async function render(source: string, table: Record<string, unknown>, native = false): Promise<unknown> {
  const ti = taskInstance(table);
  const fetched = await fetchXComs(xcomCalls([source]), {
    ti,
    dag: { dag_id: "d" },
    run_id: "r",
  } as never);
  const renderer = new TemplateRenderer({ renderTemplateAsNativeObj: native });
  const scoped = templateTaskInstance(ti, fetched);
  return renderer.render(source, { ti: scoped, task_instance: scoped }, "f", "t");
}

describe("ti.xcom_pull in templates", () => {
  it("finds calls with literal arguments, positional or by keyword, in any statement", () => {
    const calls = xcomCalls([
      "{{ ti.xcom_pull(task_ids='a', key='k') }} {% if task_instance.xcom_pull('b') %}x{% endif %}",
      "{{ ti.xcom_pull(task_ids=['c', 'd'], map_indexes=[0, 1]) | tojson }} {{ other.xcom_pull('z') }}",
      "{{ ti.xcom_pull(task_ids=name) }}",
    ]);
    expect(calls.map((c) => [c.task_ids, c.key, c.map_indexes])).toEqual([
      ["a", "k", null],
      ["b", "return_value", null],
      [["c", "d"], "return_value", [0, 1]],
    ]);
  });

  it("renders the pulled values: one task, several tasks, map indexes, a default", async () => {
    const table = { "a|k|": "va", "b|return_value|": 7, "c|return_value|0": "c0", "c|return_value|1": "c1" };
    expect(
      await render("{{ ti.xcom_pull(task_ids='a', key='k') }}-{{ task_instance.xcom_pull('b') }}", table),
    ).toBe("va-7");
    expect(await render("{{ ti.xcom_pull(task_ids=['a', 'b'], key='k') }}", { ...table, "b|k|": "vb" })).toBe(
      "va,vb",
    );
    expect(await render("{{ ti.xcom_pull(task_ids='c', map_indexes=[0, 1]) }}", table)).toBe("c0,c1");
    expect(await render("{{ ti.xcom_pull(task_ids='nope', default='dflt') }}", table)).toBe("dflt");
    expect(await render("{{ ti.xcom_pull(task_ids='b') }}", table, true)).toBe(7);
  });

  it("refuses what cannot be fetched first, saying what to write", async () => {
    await expect(render("{% set n = 'a' %}{{ ti.xcom_pull(task_ids=n) }}", {})).rejects.toThrow(
      /write its arguments as literals/,
    );
    await expect(render("{{ ti.xcom_pull(key='k') }}", {})).rejects.toThrow(/needs task_ids/);
    await expect(render("{{ ti.xcom_pull(task_ids='a', dag_id='other') }}", {})).rejects.toThrow(
      /this DAG run only/,
    );
    await expect(render("{{ ti.xcom_pull(task_ids='missing') }}", {})).rejects.toThrow(/is undefined|null/);
  });
});
