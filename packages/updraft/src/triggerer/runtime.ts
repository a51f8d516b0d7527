// What a trigger runs with in the triggerer: its kwargs, an abort signal, a log line, and — for
// the built-in triggers only — the metadata database and the connections (decision 0030).
import type { Cipher, Executor } from "../db/index.js";
import type { Connection } from "../sdk/context.js";
import type { TriggerRunContext } from "../sdk/triggers.js";
import { abortableSleep } from "../common/abortable-sleep.js";

/** Sleeps `ms`, rejecting when `signal` aborts. */
export const sleep = abortableSleep;

/** What built-in triggers get besides the user-facing context. */
export interface BuiltinContext extends TriggerRunContext {
  db: Executor;
  /** A connection by id (passwords decrypted), as a runner reads it. */
  connection(connId: string): Promise<Connection>;
}

/** A runnable trigger: resolves with the event's payload, or rejects (the task then fails). */
export type TriggerFn = (kwargs: Record<string, unknown>, ctx: BuiltinContext) => Promise<unknown>;

export interface TriggerEnv {
  db: Executor;
  cipher: Cipher;
}

/** A poll interval from kwargs (seconds), with a floor that keeps thousands of triggers cheap. */
export function pollMs(kwargs: Record<string, unknown>, fallbackS: number): number {
  const s = Number(kwargs["pokeIntervalS"] ?? fallbackS);
  return Math.max(50, Number.isFinite(s) ? s * 1000 : fallbackS * 1000);
}
