// Email on failure and on retry, end to end on the server side: tries ended by the real end-try
// statement leave rows in the outbox, and the notifier sends them through a real SMTP server on
// loopback (smtp-server), parsed with mailparser. A notification that cannot be sent never touches
// the task; several notifiers send each notification once.
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { simpleParser } from "mailparser";
import pino from "pino";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { Notifier } from "../../src/notify/notifier.js";
import { endTries, type TryEnd } from "../../src/services/index.js";
import { makeDag, saveTestDag, triggerTestRun } from "../api/helpers.js";
import { withTestDatabases } from "../db-testing.js";
import { tempDir } from "../helpers.js";

const RUN = "manual__2024-05-01T00:00:00+00:00";
const XSS = "<script>alert(1)</script>";

interface Received {
  to: string;
  subject: string;
  html: string;
}

/** A real SMTP server on loopback that keeps what it receives (no TLS, no auth: a test relay). */
async function startSmtp(): Promise<{ server: SMTPServer; port: number; inbox: Received[] }> {
  const inbox: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((mail) => {
          const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : (mail.to?.text ?? "");
          inbox.push({
            to,
            subject: mail.subject ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
          });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, inbox };
}

function configFor(port: number, retryLimit = 5) {
  return loadConfig({
    home: tempDir(),
    env: {},
    overrides: {
      "smtp.smtp_host": "127.0.0.1",
      "smtp.smtp_port": port,
      "smtp.smtp_starttls": false,
      "smtp.smtp_timeout": 5,
      "smtp.smtp_retry_limit": retryLimit,
      "smtp.smtp_mail_from": "updraft@test.local",
      "webserver.base_url": "http://updraft.test:8080/",
    },
  });
}

const logger = pino({ level: "silent" });

/** Ends the try `tryNumber` of `taskId` as failed, through the real end-try statement. */
async function failTry(
  database: Database,
  taskId: string,
  tryNumber: number,
  notify?: boolean,
): Promise<string> {
  await database.db
    .updateTable("task_instance")
    .set({ state: "running", try_number: tryNumber, start_date: new Date() })
    .where("run_id", "=", RUN)
    .where("task_id", "=", taskId)
    .execute();
  const end: TryEnd = {
    dag_id: "mail_dag",
    run_id: RUN,
    task_id: taskId,
    map_index: -1,
    try_number: tryNumber,
    state: "failed",
    retryable: true,
    delay_s: 0,
    retry_as: "up_for_retry",
    new_try: false,
    error: `ValueError: bad row ${XSS}`,
    ...(notify === undefined ? {} : { notify }),
  };
  const [ended] = await endTries(database.db, [end], sql`t.state = 'running'`);
  return ended?.state ?? "none";
}

withTestDatabases("failure and retry emails", (getDb) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  beforeAll(async () => {
    smtp = await startSmtp();
    await saveTestDag(
      getDb(),
      makeDag("mail_dag", [
        { id: "loud", retries: 1, email: ["ops@example.com", "dev@example.com"] },
        { id: "quiet", retries: 0 },
      ]),
    );
    await triggerTestRun(getDb(), "mail_dag", "2024-05-01T00:00:00Z");
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
  });
  beforeEach(() => {
    smtp.inbox.length = 0;
  });

  it("emails the task's addresses on a retry and on the final failure, with the error escaped", async () => {
    const notifier = new Notifier({ database: getDb(), config: configFor(smtp.port), logger });
    expect(await failTry(getDb(), "loud", 1)).toBe("up_for_retry");
    expect(await notifier.drain()).toEqual({ sent: 1, notNeeded: 0, failed: 0 });
    expect(await failTry(getDb(), "loud", 2)).toBe("failed");
    expect(await notifier.drain()).toEqual({ sent: 1, notNeeded: 0, failed: 0 });
    expect(smtp.inbox.map((m) => m.subject)).toEqual([
      `Updraft alert: <TaskInstance: mail_dag.loud ${RUN} [up_for_retry]>`,
      `Updraft alert: <TaskInstance: mail_dag.loud ${RUN} [failed]>`,
    ]);
    const last = smtp.inbox[1]!;
    expect(last.to).toContain("ops@example.com");
    expect(last.to).toContain("dev@example.com");
    expect(last.html).toContain("Try 2 out of 2");
    expect(last.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(last.html).not.toContain(XSS);
    expect(last.html).toContain(
      "http://updraft.test:8080/dags/mail_dag/grid?run=manual__2024-05-01T00%3A00%3A00%2B00%3A00&amp;task=loud&amp;try_number=2",
    );
    // Sent once: draining again finds nothing.
    expect(await notifier.drain()).toEqual({ sent: 0, notNeeded: 0, failed: 0 });
  });

  it("emails an SLA miss to the task's addresses", async () => {
    await getDb()
      .db.insertInto("notification")
      .values({
        kind: "sla_miss",
        dag_id: "mail_dag",
        run_id: RUN,
        task_id: "loud",
        map_index: -1,
        try_number: 0,
        error: "not done by 2024-05-01T01:00:00.000Z",
      })
      .execute();
    const notifier = new Notifier({ database: getDb(), config: configFor(smtp.port), logger });
    expect(await notifier.drain()).toEqual({ sent: 1, notNeeded: 0, failed: 0 });
    expect(smtp.inbox.map((m) => m.subject)).toEqual([`[updraft] SLA miss on DAG=mail_dag: loud in ${RUN}`]);
    expect(smtp.inbox[0]?.html).toContain("missed its SLA in run");
    expect(smtp.inbox[0]?.html).toContain("not done by 2024-05-01T01:00:00.000Z");
  });

  it("tells nobody about a task without addresses", async () => {
    const notifier = new Notifier({ database: getDb(), config: configFor(smtp.port), logger });
    expect(await failTry(getDb(), "quiet", 1)).toBe("failed");
    expect(await notifier.drain()).toEqual({ sent: 0, notNeeded: 1, failed: 0 });
    expect(smtp.inbox).toEqual([]);
  });

  it("leaves no notification for a state set by hand (notify: false)", async () => {
    await getDb()
      .db.updateTable("task_instance")
      .set({ max_tries: 0 })
      .where("task_id", "=", "loud")
      .execute();
    const before = await getDb().db.selectFrom("notification").select("id").execute();
    expect(await failTry(getDb(), "loud", 3, false)).toBe("failed");
    expect(await getDb().db.selectFrom("notification").select("id").execute()).toEqual(before);
  });

  it("gives a notification up after the retry limit when SMTP is down, and the task stays as it ended", async () => {
    await getDb()
      .db.insertInto("notification")
      .values({
        kind: "task_failed",
        dag_id: "mail_dag",
        run_id: RUN,
        task_id: "loud",
        map_index: -1,
        try_number: 9,
        error: "x",
      })
      .execute();
    const closed = await startSmtp();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    const notifier = new Notifier({ database: getDb(), config: configFor(closed.port, 2), logger });
    expect(await notifier.drain()).toEqual({ sent: 0, notNeeded: 0, failed: 1 });
    const pending = await getDb()
      .db.selectFrom("notification")
      .selectAll()
      .where("try_number", "=", 9)
      .executeTakeFirstOrThrow();
    expect(pending.done_at).toBeNull();
    expect(pending.last_error).toMatch(/ECONNREFUSED|connect/i);
    // The claim lapses (as after its timeout), the second attempt fails too: given up.
    await getDb()
      .db.updateTable("notification")
      .set({ claimed_at: null })
      .where("try_number", "=", 9)
      .execute();
    expect(await notifier.drain()).toEqual({ sent: 0, notNeeded: 0, failed: 1 });
    const given = await getDb()
      .db.selectFrom("notification")
      .select(["outcome", "attempts"])
      .where("try_number", "=", 9)
      .executeTakeFirstOrThrow();
    expect(given).toEqual({ outcome: "gave_up", attempts: 2 });
    const ti = await getDb()
      .db.selectFrom("task_instance")
      .select("state")
      .where("task_id", "=", "loud")
      .executeTakeFirstOrThrow();
    expect(ti.state).toBe("failed");
  });

  it("sends each notification once when several notifiers drain at the same time", async () => {
    const values = [10, 11, 12, 13, 14].map((n) => ({
      kind: "task_failed",
      dag_id: "mail_dag",
      run_id: RUN,
      task_id: "loud",
      map_index: -1,
      try_number: n,
      error: "x",
    }));
    await getDb().db.insertInto("notification").values(values).execute();
    const notifiers = [1, 2, 3].map(
      () => new Notifier({ database: getDb(), config: configFor(smtp.port), logger }),
    );
    const results = await Promise.all(notifiers.map((n) => n.drain()));
    expect(results.reduce((sum, r) => sum + r.sent, 0)).toBe(5);
    expect(smtp.inbox).toHaveLength(5);
  });
});
