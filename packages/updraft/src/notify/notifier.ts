// Sends the notifications that ended tries left in the outbox (migration 0010): email on failure
// and on retry, as the task's `email`, `emailOnFailure` and `emailOnRetry` ask. Runs beside the
// scheduler, never in a runner (SMTP credentials stay on the server) and never in the path of a
// task: a notification that cannot be sent is logged, retried a few times and given up; the task
// it reports on is not touched. Rows are claimed with FOR UPDATE SKIP LOCKED, so with several
// schedulers each is sent once (at least once if a process dies between sending and recording).
import { sql } from "kysely";
import type { Logger } from "pino";
import type { UpdraftConfig } from "../config/index.js";
import type { Database, NotificationRow } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { loadDag } from "../services/index.js";
import { emailRenderer, type TryNotice } from "./email-message.js";
import { smtpSender, type SendEmail } from "./smtp.js";

/** A claim older than this is taken to be abandoned by a process that died while sending. */
const CLAIM_TIMEOUT_S = 300;
const BATCH = 20;
/** The safety net: pending rows are looked for this often even when no event says so. */
const POLL_MS = 5_000;

export interface NotifierOptions {
  database: Database;
  config: UpdraftConfig;
  logger: Logger;
  events?: EngineEvents | null;
  /** How emails leave (default: SMTP with the smtp.* settings). */
  send?: SendEmail;
}

export interface DrainResult {
  sent: number;
  notNeeded: number;
  failed: number;
}

export class Notifier {
  private readonly send: SendEmail;
  private readonly render: ReturnType<typeof emailRenderer>;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: NotifierOptions) {
    this.send = o.send ?? smtpSender(o.config.smtp);
    this.render = emailRenderer({
      subjectFile: o.config.email.subject_template,
      htmlFile: o.config.email.html_content_template,
    });
  }

  /** Drains now and whenever a try fails, and every few seconds as a safety net. */
  start(): void {
    this.unsubscribe =
      this.o.events?.on((e) => {
        if (e.type === "ti_finished" && (e.state === "failed" || e.state === "up_for_retry")) this.kick();
      }) ?? null;
    const tick = (): void => {
      this.kick();
      if (!this.stopped) this.timer = setTimeout(tick, POLL_MS).unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  private kick(): void {
    this.running = this.running.then(() =>
      this.drain().catch((err: unknown) => this.o.logger.warn({ err }, "sending notifications failed")),
    );
  }

  /** Claims pending notifications and handles each once; returns what happened. */
  async drain(): Promise<DrainResult> {
    const result: DrainResult = { sent: 0, notNeeded: 0, failed: 0 };
    for (;;) {
      const claimed = await this.claim();
      if (claimed.length === 0) return result;
      for (const row of claimed) {
        const outcome = await this.handle(row);
        result[outcome]++;
      }
      if (claimed.length < BATCH) return result;
    }
  }

  private async claim(): Promise<NotificationRow[]> {
    const { rows } = await sql<NotificationRow>`
      update notification set claimed_at = now(), attempts = attempts + 1
      where id in (
        select id from notification
        where done_at is null
          and (claimed_at is null or claimed_at < now() - make_interval(secs => ${CLAIM_TIMEOUT_S}))
        order by id limit ${BATCH}
        for update skip locked)
      returning *`.execute(this.o.database.db);
    return rows;
  }

  private async finish(id: number, outcome: "sent" | "not_needed" | "gave_up", error: string | null) {
    await this.o.database.db
      .updateTable("notification")
      .set({ done_at: new Date(), outcome, last_error: error })
      .where("id", "=", id)
      .execute();
  }

  private async handle(row: NotificationRow): Promise<"sent" | "notNeeded" | "failed"> {
    const db = this.o.database.db;
    const task = (await loadDag(db, row.dag_id))?.tasks.get(row.task_id)?.task;
    // An SLA miss goes to the task's addresses whatever emailOnFailure says (as Airflow's sla email).
    const wanted =
      task !== undefined &&
      task.email.length > 0 &&
      (row.kind === "sla_miss" || (row.kind === "task_failed" ? task.email_on_failure : task.email_on_retry));
    if (!wanted) {
      await this.finish(row.id, "not_needed", null);
      return "notNeeded";
    }
    const run = await db
      .selectFrom("dag_run")
      .select("logical_date")
      .where("dag_id", "=", row.dag_id)
      .where("run_id", "=", row.run_id)
      .executeTakeFirst();
    const notice: TryNotice = {
      kind: row.kind === "task_failed" || row.kind === "sla_miss" ? row.kind : "task_retry",
      dag_id: row.dag_id,
      run_id: row.run_id,
      task_id: row.task_id,
      map_index: row.map_index,
      try_number: row.try_number,
      max_tries: task.retries,
      logical_date: run?.logical_date?.toISOString() ?? null,
      exception: row.error,
      log_url: logUrl(this.o.config.webserver.base_url, row),
    };
    try {
      const { subject, html } = this.render(notice);
      await this.send({ to: task.email, subject, html });
      await this.finish(row.id, "sent", null);
      return "sent";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const giveUp = row.attempts >= this.o.config.smtp.smtp_retry_limit;
      this.o.logger.warn(
        { dag_id: row.dag_id, task_id: row.task_id, run_id: row.run_id, attempt: row.attempts },
        `The ${row.kind === "task_failed" ? "failure" : row.kind === "sla_miss" ? "SLA miss" : "retry"} email for ${row.dag_id}.${row.task_id} could not be sent: ${message}${giveUp ? "; giving up" : "; it will be tried again"}. Check the smtp.* settings.`,
      );
      if (giveUp) await this.finish(row.id, "gave_up", message);
      else
        await db
          .updateTable("notification")
          // Released for another attempt after the claim timeout's back-off, not at once.
          .set({ last_error: message })
          .where("id", "=", row.id)
          .execute();
      return "failed";
    }
  }
}

/** The UI's Grid with the task instance selected (its panel shows the try's log). */
function logUrl(baseUrl: string, row: NotificationRow): string {
  const q = new URLSearchParams({
    run: row.run_id,
    task: row.task_id,
    ...(row.map_index >= 0 ? { map_index: String(row.map_index) } : {}),
    ...(row.try_number > 0 ? { try_number: String(row.try_number) } : {}),
  });
  return `${baseUrl.replace(/\/+$/, "")}/dags/${encodeURIComponent(row.dag_id)}/grid?${q.toString()}`;
}
