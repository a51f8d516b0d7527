// Email through SMTP with nodemailer, configured by Airflow's smtp.* settings.
import nodemailer from "nodemailer";
import type { UpdraftConfig } from "../config/index.js";

export interface Email {
  to: readonly string[];
  subject: string;
  html: string;
}

export type SendEmail = (email: Email) => Promise<void>;

/** A sender over one pooled SMTP transport (a burst of failures reuses connections). */
export function smtpSender(smtp: UpdraftConfig["smtp"]): SendEmail {
  const transport = nodemailer.createTransport({
    host: smtp.smtp_host,
    port: smtp.smtp_port,
    secure: smtp.smtp_ssl,
    // STARTTLS when asked (and refused without it); never opportunistically downgraded.
    requireTLS: !smtp.smtp_ssl && smtp.smtp_starttls,
    ignoreTLS: !smtp.smtp_ssl && !smtp.smtp_starttls,
    ...(smtp.smtp_user === null ? {} : { auth: { user: smtp.smtp_user, pass: smtp.smtp_password ?? "" } }),
    connectionTimeout: smtp.smtp_timeout * 1000,
    greetingTimeout: smtp.smtp_timeout * 1000,
    socketTimeout: smtp.smtp_timeout * 1000,
  });
  return async (email) => {
    await transport.sendMail({
      from: smtp.smtp_mail_from,
      to: [...email.to],
      subject: email.subject,
      html: email.html,
    });
  };
}
