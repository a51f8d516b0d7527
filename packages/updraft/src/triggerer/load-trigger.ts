// From a trigger row's classpath to the function that runs it (decision 0030). Built-in triggers
// are in builtin/. A user-written one is `module:<absolute path>#<export>`: that module alone is
// transpiled (with the files it imports) and imported — never the DAG file that deferred — so the
// triggerer runs trigger code only (ARCHITECTURE.md). Each module is loaded once per triggerer.
import { pathToFileURL } from "node:url";
import { UpdraftError } from "../common/errors.js";
import { Transpiler } from "../loader/index.js";
import { BUILTIN_TRIGGERS, USER_TRIGGER_PREFIX, type UserTriggerDefinition } from "../sdk/triggers.js";
import { dateTimeTrigger } from "./builtin/date-time.js";
import { dagRunStateTrigger, externalTaskTrigger } from "./builtin/external-task.js";
import { fileTrigger } from "./builtin/file.js";
import { httpTrigger } from "./builtin/http.js";
import { s3KeyTrigger } from "./builtin/s3-key.js";
import { sqlTrigger } from "./builtin/sql.js";
import type { TriggerFn } from "./runtime.js";

const BUILTIN: Record<string, TriggerFn> = {
  [BUILTIN_TRIGGERS.dateTime]: dateTimeTrigger,
  [BUILTIN_TRIGGERS.file]: fileTrigger,
  [BUILTIN_TRIGGERS.http]: httpTrigger,
  [BUILTIN_TRIGGERS.sql]: sqlTrigger,
  [BUILTIN_TRIGGERS.externalTask]: externalTaskTrigger,
  [BUILTIN_TRIGGERS.dagRunState]: dagRunStateTrigger,
  [BUILTIN_TRIGGERS.s3Key]: s3KeyTrigger,
};

function isDefinition(v: unknown): v is UserTriggerDefinition {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as { kind?: unknown }).kind === "updraft.trigger" &&
    typeof (v as { run?: unknown }).run === "function"
  );
}

export class TriggerLoader {
  private readonly transpiler: Transpiler;
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();

  constructor(cacheDir: string) {
    this.transpiler = new Transpiler(cacheDir);
  }

  /** The function for `classpath`; TRIGGER_NOT_FOUND / TRIGGER_INVALID say what is wrong. */
  async load(classpath: string): Promise<TriggerFn> {
    const builtin = BUILTIN[classpath];
    if (builtin !== undefined) return builtin;
    if (!classpath.startsWith(USER_TRIGGER_PREFIX))
      throw new UpdraftError(
        "TRIGGER_NOT_FOUND",
        `No trigger "${classpath}": use one of updraft's triggers (${Object.values(BUILTIN_TRIGGERS).join(", ")}) or userTrigger("path/to/module.ts").`,
      );
    const rest = classpath.slice(USER_TRIGGER_PREFIX.length);
    const hash = rest.lastIndexOf("#");
    const path = hash === -1 ? rest : rest.slice(0, hash);
    const name = hash === -1 ? "default" : rest.slice(hash + 1);
    const mod = await this.module(path);
    const def = mod[name];
    if (!isDefinition(def))
      throw new UpdraftError(
        "TRIGGER_INVALID",
        `The module ${path} has no trigger export "${name}": export defineTrigger(...) under that name.`,
      );
    return (kwargs, ctx) => def.run(kwargs, { signal: ctx.signal, log: ctx.log });
  }

  private module(path: string): Promise<Record<string, unknown>> {
    let m = this.modules.get(path);
    if (m === undefined) {
      m = (async () => {
        const out = await this.transpiler.transpile(path);
        if (!out.ok)
          throw new UpdraftError(
            "TRIGGER_INVALID",
            `The trigger module ${path} does not compile: ${out.error}`,
          );
        return (await import(`${pathToFileURL(out.compiledPath).href}?v=${out.key}`)) as Record<
          string,
          unknown
        >;
      })();
      // A failed load is tried again for the next trigger (the file may be fixed meanwhile).
      m.catch(() => this.modules.delete(path));
      this.modules.set(path, m);
    }
    return m;
  }
}
