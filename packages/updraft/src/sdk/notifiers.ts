// Notifiers: ready-made callbacks (`onFailureCallback: slackWebhookNotifier({...})`) that tell a
// chat or a web service about a task. They run where callbacks run, in the task runner, and read
// their address from a connection (never from the DAG file). A notifier that fails throws; the
// runner logs it and the task's state stays as it was recorded (callbacks never change it).
//
// Plain `fetch`, not @slack/webhook: an incoming webhook is one JSON POST, and the SDK is what
// every DAG file imports, so it takes no HTTP client (and its dependencies) along.
import type { TaskContext } from "./context.js";
import type { TaskCallback } from "./options.js";

/** What a message is built from: the task's context (with `exception` in failure and retry callbacks). */
export type MessageOf<T> = T | ((ctx: TaskContext) => T);

const DEFAULT_TIMEOUT_MS = 10_000;
const SLACK_SERVICES = "https://hooks.slack.com/services";

function valueOf<T>(v: MessageOf<T>, ctx: TaskContext): T {
  return typeof v === "function" ? (v as (ctx: TaskContext) => T)(ctx) : v;
}

async function post(
  url: string,
  body: unknown,
  o: { method?: string; headers?: Record<string, string>; timeoutMs?: number },
) {
  const res = await fetch(url, {
    method: o.method ?? "POST",
    headers: { "content-type": "application/json", ...o.headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(o.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
  if (!res.ok) {
    const text = (await res.text().catch(() => "")).slice(0, 200);
    // The URL may hold a secret (a Slack webhook's token): only its origin is named.
    throw new Error(
      `The webhook at ${new URL(url).origin} answered ${res.status}${text === "" ? "" : `: ${text}`}.`,
    );
  }
}

export interface SlackWebhookNotifierOptions {
  /**
   * The connection holding the webhook (Airflow's `slackwebhook` type): its password is the
   * webhook's URL, or the part after `https://hooks.slack.com/services/` (then `host` may name
   * another base). Default `slack_default`.
   */
  slackWebhookConnId?: string;
  /** The message; a function gets the task's context, e.g. `(ctx) => \`${ctx.ti.task_id} failed: ${ctx.exception}\``. */
  text: MessageOf<string>;
  /** Slack Block Kit blocks, sent beside `text` (which then is the notification's fallback). */
  blocks?: MessageOf<unknown[]>;
  channel?: string;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
  timeoutMs?: number;
}

/**
 * A callback that posts to a Slack incoming webhook, as Airflow's `send_slack_webhook_notification`.
 *
 * @example
 * ```ts
 * task({
 *   taskId: "load",
 *   onFailureCallback: slackWebhookNotifier({
 *     text: (ctx) => `:red_circle: ${ctx.dag.dag_id}.${ctx.ti.task_id} failed (${ctx.run_id}): ${ctx.exception}`,
 *   }),
 * }, load);
 * ```
 */
export function slackWebhookNotifier(o: SlackWebhookNotifierOptions): TaskCallback {
  return (ctx) =>
    sendSlackWebhook(
      ctx,
      o.slackWebhookConnId,
      {
        text: valueOf(o.text, ctx),
        ...(o.blocks === undefined ? {} : { blocks: valueOf(o.blocks, ctx) }),
        ...(o.channel === undefined ? {} : { channel: o.channel }),
        ...(o.username === undefined ? {} : { username: o.username }),
        ...(o.iconEmoji === undefined ? {} : { iconEmoji: o.iconEmoji }),
        ...(o.iconUrl === undefined ? {} : { iconUrl: o.iconUrl }),
      },
      o.timeoutMs,
    );
}

/** One Slack incoming-webhook message, as the notifier and SlackWebhookOperator send it. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
  channel?: string;
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
}

/**
 * @internal Posts `msg` to the webhook of connection `connId` (default `slack_default`): the one
 * Slack call the notifier and SlackWebhookOperator share.
 */
export async function sendSlackWebhook(
  ctx: Pick<TaskContext, "conn">,
  connId: string | undefined,
  msg: SlackMessage,
  timeoutMs?: number,
): Promise<void> {
  const conn = await ctx.conn.get(connId ?? "slack_default");
  const url = slackWebhookUrl(conn.password ?? "", conn.host ?? "");
  if (url === null)
    throw new Error(
      `Connection "${conn.conn_id}" has no webhook: put its URL (or its token) in the password.`,
    );
  await post(
    url,
    {
      text: msg.text,
      ...(msg.blocks === undefined ? {} : { blocks: msg.blocks }),
      ...(msg.channel === undefined ? {} : { channel: msg.channel }),
      ...(msg.username === undefined ? {} : { username: msg.username }),
      ...(msg.iconEmoji === undefined ? {} : { icon_emoji: msg.iconEmoji }),
      ...(msg.iconUrl === undefined ? {} : { icon_url: msg.iconUrl }),
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  );
}

/** The webhook's URL from Airflow's slackwebhook connection fields; null when they hold none. */
function slackWebhookUrl(password: string, host: string): string | null {
  const withScheme = (h: string) => (/^https?:\/\//.test(h) ? h : `https://${h}`);
  if (/^https?:\/\//.test(password)) return password;
  if (password !== "")
    return `${(host === "" ? SLACK_SERVICES : withScheme(host)).replace(/\/+$/, "")}/${password.replace(/^\/+/, "")}`;
  return host === "" ? null : withScheme(host);
}

export interface WebhookNotifierOptions {
  /** The connection whose host (with schema `http`/`https` in conn_type or extra) is the URL. */
  connId: string;
  /** Appended to the connection's URL, e.g. `/alerts`. */
  endpoint?: string;
  /** The JSON body; a function gets the task's context. */
  body: MessageOf<Record<string, unknown> | unknown[] | string | number | boolean | null>;
  method?: "POST" | "PUT" | "PATCH";
  /** Extra headers; the connection's extra `headers` object is sent too. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * A callback that sends JSON to any HTTP endpoint (an incident tool, a chat bridge). The URL comes
 * from the connection (`http://host:port/path` in its URI form); a login and password become HTTP
 * Basic authentication.
 */
export function webhookNotifier(o: WebhookNotifierOptions): TaskCallback {
  return async (ctx) => {
    const conn = await ctx.conn.get(o.connId);
    const host = conn.host ?? "";
    const base = /^https?:\/\//.test(host)
      ? host
      : `${conn.conn_type === "https" || conn.extra["scheme"] === "https" ? "https" : "http"}://${host}${conn.port === null ? "" : `:${conn.port}`}${conn.schema === null || conn.schema === "" ? "" : `/${conn.schema}`}`;
    const headers: Record<string, string> = {};
    const extraHeaders = conn.extra["headers"];
    if (extraHeaders !== null && typeof extraHeaders === "object")
      for (const [k, v] of Object.entries(extraHeaders)) headers[k] = String(v);
    if (conn.login !== null && conn.login !== "")
      headers["authorization"] =
        `Basic ${Buffer.from(`${conn.login}:${conn.password ?? ""}`).toString("base64")}`;
    await post(`${base.replace(/\/+$/, "")}${o.endpoint ?? ""}`, valueOf(o.body, ctx), {
      ...(o.method === undefined ? {} : { method: o.method }),
      headers: { ...headers, ...o.headers },
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    });
  };
}
