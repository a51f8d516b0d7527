import type { Migration } from "./migration.js";

/**
 * The outbox of notifications about ended tries (email on failure and on retry). A row is written
 * in the same statement that ends a failed try (services/end-try.ts), so no failure is missed
 * whichever path ended it (a runner's report, a lost runner, a try queued too long), and the
 * notifier claims rows with FOR UPDATE SKIP LOCKED, so several schedulers send each once. The
 * unique key makes a repeated end of the same try one notification.
 */
export const migration0010: Migration = {
  version: 10,
  name: "notifications",
  statements: [
    `CREATE TABLE notification (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      dag_id text NOT NULL,
      run_id text NOT NULL,
      task_id text NOT NULL,
      map_index integer NOT NULL,
      try_number integer NOT NULL,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      claimed_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      done_at timestamptz,
      outcome text,
      last_error text,
      UNIQUE (kind, dag_id, run_id, task_id, map_index, try_number)
    )`,
    `CREATE INDEX notification_pending ON notification (id) WHERE done_at IS NULL`,
  ],
};
