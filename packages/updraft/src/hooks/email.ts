// Email from a task (EmailOperator) through the notifier's SMTP sender: one SMTP implementation.
import { loadConfig, type UpdraftConfig } from "../config/index.js";
import { smtpSender, type Email } from "../notify/smtp.js";
import type { Connection } from "../sdk/context.js";
import { expectConnType } from "./connection-type.js";

const flag = (v: unknown): boolean | undefined =>
  typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : undefined;

/**
 * The smtp.* settings, with a connection (conn_type `smtp`, Airflow's) over them when given: host,
 * port, login/password, and extras `from_email`, `ssl`/`starttls` (or Airflow's `disable_ssl`/
 * `disable_tls`), `timeout` in seconds.
 */
export function smtpSettings(
  conn: Connection | null,
  base: UpdraftConfig["smtp"] = loadConfig().smtp,
): UpdraftConfig["smtp"] {
  if (conn === null) return base;
  expectConnType(conn, "EmailOperator", ["smtp", "email"]);
  const x = conn.extra;
  const disableSsl = flag(x["disable_ssl"]);
  const disableTls = flag(x["disable_tls"]);
  const timeout = Number(x["timeout"]);
  return {
    ...base,
    smtp_host: conn.host ?? base.smtp_host,
    smtp_port: conn.port ?? base.smtp_port,
    smtp_user: conn.login ?? base.smtp_user,
    smtp_password: conn.password ?? base.smtp_password,
    smtp_ssl: flag(x["ssl"]) ?? (disableSsl === undefined ? base.smtp_ssl : !disableSsl),
    smtp_starttls: flag(x["starttls"]) ?? (disableTls === undefined ? base.smtp_starttls : !disableTls),
    smtp_mail_from: typeof x["from_email"] === "string" ? x["from_email"] : base.smtp_mail_from,
    smtp_timeout: Number.isFinite(timeout) && timeout > 0 ? timeout : base.smtp_timeout,
  };
}

/** Sends one email with the settings above. */
export async function sendEmail(conn: Connection | null, email: Email): Promise<void> {
  await smtpSender(smtpSettings(conn))(email);
}
