import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import { loadHooks } from "../hooks.js";
import type { TaskOptions } from "../options.js";
import { pick } from "./sql.js";
import { MAPPED_VALUE, mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link EmailOperator}. */
export interface EmailOperatorOptions extends TaskOptions {
  taskId: string;
  /** Recipient(s); templated. */
  to: string | string[];
  /** Templated. */
  subject: string;
  /** The HTML body, or a `.html` file next to the DAG file; templated (the file's content too). */
  htmlContent: string;
  /**
   * A connection of conn_type `smtp` (host, port, login, password; extras `from_email`, `ssl`,
   * `starttls`). Without it, the `smtp.*` settings the notifications use.
   */
  connId?: string;
}

const FIELDS = ["to", "subject", "htmlContent", "connId"] as const;

/**
 * Sends an email (Airflow's `EmailOperator`) through the same SMTP code as the failure
 * notifications.
 *
 * @example
 * ```ts
 * new EmailOperator({ taskId: "report", to: ["sales@example.com"], subject: "Sales {{ ds }}", htmlContent: "report.html" });
 * ```
 */
export class EmailOperator extends BaseOperator {
  readonly operatorName = "EmailOperator";
  static readonly mappableFields = ["to", "subject", "htmlContent"] as const;

  /**
   * Starts a mapped EmailOperator: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * EmailOperator.partial({ taskId: "notify", subject: "Done", htmlContent: "ok" }).expand({ to: ["a@example.com", "b@example.com"] });
   * ```
   */
  static partial(
    options: Partial<EmailOperatorOptions> & { taskId: string },
  ): MappedBuilder<EmailOperatorOptions, "to" | "subject" | "htmlContent"> {
    return mappedOperator(EmailOperator, options, EmailOperator.mappableFields);
  }
  readonly templateFields = ["to", "subject", "htmlContent"] as const;

  constructor(options: EmailOperatorOptions) {
    super(options, pick(options, FIELDS), FIELDS);
    const to = Array.isArray(options.to) ? options.to : [options.to];
    if ((options.to as unknown) === MAPPED_VALUE) return;
    if (to.length === 0 || to.some((t) => typeof t !== "string" || t.trim() === ""))
      throw new UpdraftError(
        "INVALID_TASK",
        `EmailOperator "${options.taskId}": give at least one recipient in to.`,
      );
  }

  async execute(input: ExecuteInput): Promise<undefined> {
    const f = input.fields;
    const to = (Array.isArray(f.to) ? f.to : String(f.to).split(/[,;]/))
      .map((t) => String(t).trim())
      .filter((t) => t !== "");
    let html = String(f.htmlContent ?? "");
    if (/\.html?$/i.test(html.trim())) {
      const dagFile = this.callSite.file();
      const path = isAbsolute(html.trim())
        ? html.trim()
        : resolve(dagFile === undefined ? process.cwd() : dirname(dagFile), html.trim());
      html = readFileSync(path, "utf8");
      if (input.render) html = input.render(html, "htmlContent");
    }
    const conn = typeof f.connId === "string" ? await input.ctx.conn.get(f.connId) : null;
    const hooks = await loadHooks();
    console.log(`Sending email to ${to.join(", ")}`);
    await hooks.sendEmail(conn, { to, subject: String(f.subject ?? ""), html });
    return undefined;
  }
}
