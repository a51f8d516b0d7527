import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import { sendSlackWebhook } from "../notifiers.js";
import type { TaskOptions } from "../options.js";

/** Options of {@link SlackWebhookOperator}. */
export interface SlackWebhookOperatorOptions extends TaskOptions {
  taskId: string;
  /**
   * The connection holding the webhook (Airflow's `slackwebhook` type): its password is the
   * webhook's URL or the part after `https://hooks.slack.com/services/`. Default `slack_default`.
   * The URL never comes from the DAG file.
   */
  slackWebhookConnId?: string;
  /** The message (templated: `"Sales for {{ ds }} loaded"`). */
  message?: string;
  /** Slack Block Kit blocks (templated); `message` is then the notification's fallback text. */
  blocks?: unknown[];
  /** Templated. */
  channel?: string;
  /** Templated. */
  username?: string;
  iconEmoji?: string;
  iconUrl?: string;
  /** How long to wait for Slack. Default 10 s. */
  timeoutMs?: number;
}

const FIELDS = [
  "slackWebhookConnId",
  "message",
  "blocks",
  "channel",
  "username",
  "iconEmoji",
  "iconUrl",
  "timeoutMs",
] as const;

const optional = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/**
 * Posts a message to a Slack incoming webhook, as Airflow's `SlackWebhookOperator`. The webhook's
 * address comes from a connection; `message`, `blocks`, `channel` and `username` are templates.
 *
 * @example
 * ```ts
 * new SlackWebhookOperator({
 *   taskId: "announce",
 *   slackWebhookConnId: "slack_alerts",
 *   message: ":white_check_mark: sales for {{ ds }} are loaded",
 * });
 * ```
 */
export class SlackWebhookOperator extends BaseOperator {
  readonly operatorName = "SlackWebhookOperator";
  readonly templateFields = ["message", "blocks", "channel", "username"] as const;

  constructor(options: SlackWebhookOperatorOptions) {
    const fields: Record<string, unknown> = {};
    for (const k of FIELDS) if (options[k] !== undefined) fields[k] = options[k];
    super(options, fields, FIELDS);
    if ((options.message ?? "") === "" && (options.blocks ?? []).length === 0)
      throw new UpdraftError(
        "INVALID_TASK",
        `SlackWebhookOperator "${options.taskId}": give a message or blocks (or both) to send.`,
      );
  }

  async execute({ ctx, fields }: ExecuteInput): Promise<undefined> {
    const blocks = fields.blocks;
    if (blocks !== undefined && !Array.isArray(blocks))
      throw new UpdraftError(
        "INVALID_TASK",
        `SlackWebhookOperator "${ctx.ti.task_id}": blocks must render to a list of Block Kit blocks.`,
      );
    const channel = optional(fields.channel);
    const username = optional(fields.username);
    const iconEmoji = optional(fields.iconEmoji);
    const iconUrl = optional(fields.iconUrl);
    await sendSlackWebhook(
      ctx,
      optional(fields.slackWebhookConnId),
      {
        text: optional(fields.message) ?? "",
        ...(blocks === undefined ? {} : { blocks }),
        ...(channel === undefined ? {} : { channel }),
        ...(username === undefined ? {} : { username }),
        ...(iconEmoji === undefined ? {} : { iconEmoji }),
        ...(iconUrl === undefined ? {} : { iconUrl }),
      },
      typeof fields.timeoutMs === "number" ? fields.timeoutMs : undefined,
    );
    return undefined;
  }
}
